// warren.js: a small browser client for Warren, meant to be read and copied.
//
// - The access token lives in this object only (never localStorage, never a cookie), so a
//   reload forgets it; the refresh token is an HttpOnly cookie the page cannot read at all
//   (Warren's `auth.refresh_cookie`), and `restore()` turns it into a new access token.
// - Tokens are refreshed shortly before they expire, and once more when a request gets 401.
// - Refreshes are de-duplicated: one in flight per tab, and across tabs the Web Locks API lets
//   one tab refresh at a time. (Warren's reuse grace window is the safety net if two race.)
// - The events socket keeps the view live (profile, avatar, sign-outs elsewhere), reconnects
//   with backoff, and gets each new access token through an `auth` frame.
//
// Events dispatched on the client (it is an EventTarget):
//   "user"       detail: the user object, whenever it changes (profile, avatar, verification)
//   "signedin"   detail: the user
//   "signedout"  detail: { reason } ("signout": here, "ended": elsewhere or expired, "deleted")
//   "live"       detail: every frame the events socket sends
//   "socket"     detail: { open: true } or { open: false, code } (the close code, e.g. 4401)

/** An error answer from Warren (RFC 9457 problem+json). */
export class WarrenError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.code = problem.code || "http_error";
    this.errors = problem.errors || [];
    this.requestId = problem.request_id;
  }
}

const LOCK_NAME = "warren-refresh";
// Refresh this long before the access token expires (or halfway through a short lifetime).
const REFRESH_MARGIN_SECONDS = 60;
const MAX_RECONNECT_DELAY_MS = 30_000;

export class Warren extends EventTarget {
  #base;
  #accessToken = null;
  #refreshTimer = null;
  #refreshing = null;
  #socket = null;
  #reconnectDelay = 1000;
  #reconnectTimer = null;
  user = null;
  sessionId = null;

  constructor(baseUrl) {
    super();
    this.#base = baseUrl.replace(/\/$/, "");
  }

  get signedIn() {
    return this.#accessToken !== null;
  }

  /** A URL on Warren, e.g. for an avatar path. */
  url(path) {
    return this.#base + path;
  }

  // ---- sessions ----------------------------------------------------------------------------

  /** On page load: a refresh cookie from an earlier visit becomes a session again. */
  async restore() {
    try {
      await this.#refresh();
      return this.user;
    } catch {
      return null;
    }
  }

  /**
   * Returns `{ user }`, or `{ mfa }` when the account has two-factor sign-in on: then
   * `signInWithCode(mfa.token, code)` completes the signin (within `mfa.expiresIn` seconds).
   */
  async signIn(email, password) {
    const body = await this.#post("/api/v1/auth/signin", { email, password });
    if (body.mfa_required) {
      return { mfa: { token: body.mfa_token, expiresIn: body.expires_in, methods: body.methods } };
    }
    return { user: this.#signedIn(body) };
  }

  /** The second step: a code from the authenticator app, or an unused recovery code. */
  async signInWithCode(mfaToken, code) {
    const body = await this.#post("/api/v1/auth/signin/mfa", { mfa_token: mfaToken, code });
    return this.#signedIn(body);
  }

  async signOut() {
    try {
      await this.#post("/api/v1/auth/signout", {});
    } finally {
      this.#forget("signout");
    }
  }

  // ---- the API -----------------------------------------------------------------------------

  signUp(account) {
    return this.#post("/api/v1/auth/signup", account);
  }
  verifyEmail(token) {
    return this.#post("/api/v1/auth/verify-email", { token });
  }
  forgotPassword(email) {
    return this.#post("/api/v1/auth/forgot-password", { email });
  }
  resetPassword(token, password) {
    return this.#post("/api/v1/auth/reset-password", { token, password });
  }
  confirmEmailChange(token) {
    return this.#post("/api/v1/auth/confirm-email-change", { token });
  }
  async me() {
    return this.#setUser(await this.request("GET", "/api/v1/users/me"));
  }
  async updateMe(changes) {
    return this.#setUser(await this.request("PATCH", "/api/v1/users/me", { json: changes }));
  }
  resendVerification() {
    return this.request("POST", "/api/v1/users/me/verify-email");
  }
  sessions() {
    return this.request("GET", "/api/v1/users/me/sessions");
  }
  endSession(id) {
    return this.request("DELETE", `/api/v1/users/me/sessions/${encodeURIComponent(id)}`);
  }
  async uploadAvatar(file) {
    const form = new FormData();
    form.append("file", file);
    return this.#setUser(await this.request("PUT", "/api/v1/users/me/avatar", { body: form }));
  }
  removeAvatar() {
    return this.request("DELETE", "/api/v1/users/me/avatar");
  }
  /** Starts a TOTP enrolment: `{ secret, otpauth_uri }`, pending until `confirmTotp`. */
  startTotp(currentPassword) {
    return this.request("POST", "/api/v1/users/me/mfa/totp", {
      json: { current_password: currentPassword },
    });
  }
  /** Confirms the enrolment with a code from the app; returns the 10 recovery codes. */
  async confirmTotp(code) {
    const { recovery_codes: codes } = await this.request("POST", "/api/v1/users/me/mfa/totp/confirm", {
      json: { code },
    });
    await this.me(); // mfa_enabled changed
    return codes;
  }
  async disableTotp(currentPassword, code) {
    await this.request("DELETE", "/api/v1/users/me/mfa/totp", {
      json: { current_password: currentPassword, code },
    });
    await this.me();
  }
  async regenerateRecoveryCodes(currentPassword, code) {
    const { recovery_codes: codes } = await this.request("POST", "/api/v1/users/me/mfa/recovery-codes", {
      json: { current_password: currentPassword, code },
    });
    return codes;
  }
  async deleteAccount(currentPassword) {
    await this.request("DELETE", "/api/v1/users/me", {
      json: { current_password: currentPassword },
    });
    this.#forget("deleted");
  }

  /**
   * An authenticated request. A 401 about the access token (`unauthenticated`) is answered by
   * one refresh and one retry: the token may have expired a moment ago (a laptop waking up),
   * or the session may really be over. Other 401s (a wrong two-factor code) are the answer:
   * retrying would spend another attempt.
   */
  async request(method, path, { json, body } = {}) {
    if (!this.#accessToken) await this.#refresh();
    let response = await this.#send(method, path, json, body);
    if (response.status === 401 && (await this.#problemCode(response)) === "unauthenticated") {
      await this.#refresh();
      response = await this.#send(method, path, json, body);
    }
    return this.#read(response);
  }

  async #problemCode(response) {
    try {
      return (await response.clone().json()).code;
    } catch {
      return null;
    }
  }

  #send(method, path, json, body) {
    const headers = { Authorization: `Bearer ${this.#accessToken}` };
    if (json !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(json);
    }
    // `include`: responses may set or delete the refresh cookie (sign out everywhere, delete).
    return fetch(this.url(path), { method, headers, body, credentials: "include" });
  }

  async #post(path, json) {
    const response = await fetch(this.url(path), {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(json),
      credentials: "include",
    });
    return this.#read(response);
  }

  async #read(response) {
    const type = response.headers.get("Content-Type") || "";
    const body = type.includes("json") ? await response.json() : null;
    if (!response.ok) throw new WarrenError(response.status, body || {});
    return body;
  }

  // ---- refreshing --------------------------------------------------------------------------

  /** One refresh in flight per tab; every caller waits for the same one. */
  #refresh() {
    this.#refreshing ??= this.#refreshOneTabAtATime().finally(() => {
      this.#refreshing = null;
    });
    return this.#refreshing;
  }

  /**
   * Tabs share one cookie, and each refresh rotates it: the lock makes a second tab wait and
   * then refresh with the cookie the first one got. Without Web Locks, Warren's reuse grace
   * window gives both racing tabs the same successor.
   */
  #refreshOneTabAtATime() {
    if (!navigator.locks) return this.#refreshNow();
    return navigator.locks.request(LOCK_NAME, () => this.#refreshNow());
  }

  async #refreshNow() {
    let body;
    try {
      body = await this.#post("/api/v1/auth/refresh", {});
    } catch (error) {
      if (error instanceof WarrenError && error.status === 401) {
        this.#forget("ended");
      }
      throw error;
    }
    const first = !this.#accessToken;
    this.#accept(body);
    if (first) this.dispatchEvent(new CustomEvent("signedin", { detail: this.user }));
  }

  #signedIn(body) {
    this.#accept(body);
    this.dispatchEvent(new CustomEvent("signedin", { detail: this.user }));
    return this.user;
  }

  #accept({ access_token: token, expires_in: lifetime, user }) {
    this.#accessToken = token;
    this.#setUser(user);
    clearTimeout(this.#refreshTimer);
    const lead = Math.min(REFRESH_MARGIN_SECONDS, lifetime / 2);
    this.#refreshTimer = setTimeout(() => this.#refreshInBackground(), (lifetime - lead) * 1000);
    this.#liveAuth();
  }

  async #refreshInBackground() {
    try {
      await this.#refresh();
    } catch (error) {
      // Offline or Warren busy: try again soon; a 401 has already signed us out.
      if (this.#accessToken) this.#refreshTimer = setTimeout(() => this.#refreshInBackground(), 5000);
    }
  }

  #setUser(user) {
    this.user = user;
    this.dispatchEvent(new CustomEvent("user", { detail: user }));
    return user;
  }

  #forget(reason) {
    const wasSignedIn = this.#accessToken !== null;
    this.#accessToken = null;
    this.user = null;
    this.sessionId = null;
    clearTimeout(this.#refreshTimer);
    this.#closeSocket();
    if (wasSignedIn && reason) {
      this.dispatchEvent(new CustomEvent("signedout", { detail: { reason } }));
    }
  }

  // ---- live events -------------------------------------------------------------------------

  /** Opens the socket, or hands the open one the new token so it outlives the old one. */
  #liveAuth() {
    const socket = this.#socket;
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify({ type: "auth", access_token: this.#accessToken }));
    } else if (!socket) {
      this.#connect();
    }
  }

  #connect() {
    clearTimeout(this.#reconnectTimer);
    const url = this.url("/api/v1/events").replace(/^http/, "ws");
    // Browsers cannot set headers on a WebSocket, and query strings end up in logs: the token
    // travels as a second subprotocol, and Warren answers with `warren.v1` only.
    const socket = new WebSocket(url, ["warren.v1", `warren.bearer.${this.#accessToken}`]);
    this.#socket = socket;
    socket.onopen = () => {
      this.#reconnectDelay = 1000;
      this.dispatchEvent(new CustomEvent("socket", { detail: { open: true } }));
    };
    socket.onmessage = (message) => this.#onFrame(JSON.parse(message.data));
    socket.onclose = (event) => this.#onClose(socket, event);
  }

  #onFrame(frame) {
    if (frame.type === "ready") this.sessionId = frame.session_id;
    if (frame.type === "user_updated") this.#setUser(frame.user);
    if (frame.type === "account_deleted") this.#forget("deleted");
    this.dispatchEvent(new CustomEvent("live", { detail: frame }));
  }

  async #onClose(socket, event) {
    if (socket !== this.#socket) return; // replaced or closed on purpose
    this.#socket = null;
    this.dispatchEvent(new CustomEvent("socket", { detail: { open: false, code: event.code } }));
    if (!this.#accessToken) return;
    if (event.code === 4401) {
      // Expired, or this session ended (signed out elsewhere, password reset). One refresh
      // tells which: it fails when the session is over, and that signs us out.
      try {
        await this.#refresh();
      } catch {
        this.#forget("ended");
        return;
      }
    }
    this.#reconnectTimer = setTimeout(() => {
      if (this.#accessToken && !this.#socket) this.#connect();
    }, this.#reconnectDelay);
    this.#reconnectDelay = Math.min(this.#reconnectDelay * 2, MAX_RECONNECT_DELAY_MS);
  }

  #closeSocket() {
    clearTimeout(this.#reconnectTimer);
    const socket = this.#socket;
    this.#socket = null;
    if (socket) socket.close(1000);
  }
}
