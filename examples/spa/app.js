// The example SPA: views for every account flow, on top of warren.js. No framework, no build:
// each view is a <section data-view> in index.html, and the path picks which one shows.
import { WARREN_URL } from "./config.js";
import { qrSvg } from "./qr.js";
import { Warren, WarrenError } from "./warren.js";

const warren = new Warren(WARREN_URL);
// Open to anyone; every other view needs a session.
const PUBLIC_VIEWS = new Set([
  "signin", "signin-code", "signup", "verify-email", "confirm-email", "forgot-password", "reset-password",
]);
const VIEWS = new Set([...PUBLIC_VIEWS, "profile", "sessions", "two-factor", "delete-account"]);
const SIGNED_OUT_MESSAGES = {
  signout: "You are signed out.",
  ended: "Your session ended. Please sign in again.",
  deleted: "Your account was deleted.",
};

const $ = (selector, root = document) => root.querySelector(selector);

// The signin waiting for its second step (memory only: a reload starts the signin again).
let pendingSignIn = null;

// ---- showing views ---------------------------------------------------------------------------

function announce(message) {
  $("#status").textContent = message;
}

/** Shows one view and moves focus to its heading, so keyboard and screen-reader users land
 *  where the page changed. */
function show(view) {
  for (const section of document.querySelectorAll("[data-view]")) {
    section.hidden = section.dataset.view !== view;
  }
  const heading = $(`[data-view="${view}"] h1`);
  document.title = `${heading.textContent} · Warren example`;
  heading.focus();
  $("#nav-signed-in").hidden = !warren.signedIn;
  $("#nav-signed-out").hidden = warren.signedIn;
}

function navigate(path) {
  history.pushState(null, "", path);
  route();
}

function route() {
  const name = location.pathname.replace(/^\/+|\/+$/g, "");
  let view = VIEWS.has(name) ? name : warren.signedIn ? "profile" : "signin";
  if (!PUBLIC_VIEWS.has(view) && !warren.signedIn) view = "signin";
  if ((view === "signin" || view === "signin-code") && warren.signedIn) view = "profile";
  if (view === "signin-code" && !pendingSignIn) view = "signin";
  show(view);
  ENTER[view]?.();
}

/** The token of an emailed link sits in the fragment, so it reaches no server log. */
function linkToken() {
  return new URLSearchParams(location.hash.slice(1)).get("token");
}

const ENTER = {
  profile: () => renderProfile(warren.user),
  sessions: loadSessions,
  "two-factor": () => {
    showRecoveryCodes(null); // shown once: leaving the page forgets them
    $("#mfa-confirm-form").hidden = true;
    renderTwoFactor(warren.user);
  },
  "verify-email": () =>
    useLink("verify-email", (token) => warren.verifyEmail(token), "Your email address is verified."),
  "confirm-email": () =>
    useLink("confirm-email", (token) => warren.confirmEmailChange(token), "Your new email address is confirmed."),
};

async function useLink(view, use, success) {
  const result = $(`[data-view="${view}"] .result`);
  const token = linkToken();
  if (!token) {
    result.textContent = "This link is incomplete: open the whole link from the email.";
    return;
  }
  try {
    await use(token);
    history.replaceState(null, "", location.pathname); // the token is spent
    result.textContent = success;
    announce(success);
    if (warren.signedIn) await warren.me();
  } catch (error) {
    result.textContent = error.code === "invalid_token"
      ? "This link is invalid, used or expired. Ask for a new one."
      : error.message;
    announce(result.textContent);
  }
}

// ---- forms -----------------------------------------------------------------------------------

/** Wires a form: collects its fields, disables it while the request runs, shows errors
 *  (the whole problem and each field Warren names) and announces them. */
function onSubmit(formId, action) {
  const form = document.getElementById(formId);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    const data = Object.fromEntries(new FormData(form));
    const button = $("button[type=submit]", form);
    button.disabled = true;
    try {
      await action(data, form);
    } catch (error) {
      showError(form, error);
    } finally {
      button.disabled = false;
    }
  });
}

function clearErrors(form) {
  $(".form-error", form).textContent = "";
  for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
}

function showError(container, error) {
  const messages = [error.message];
  let first = null;
  for (const { field, message } of error.errors ?? []) {
    const input = container.querySelector(`[name="${field}"]`);
    if (input) {
      input.setAttribute("aria-invalid", "true");
      first ??= input;
    }
    messages.push(`${field}: ${message}`);
  }
  if (!(error instanceof WarrenError)) messages[0] = "Warren could not be reached.";
  $(".form-error", container).textContent = messages.join(" ");
  first?.focus();
}

onSubmit("signin-form", async ({ email, password }, form) => {
  const { mfa } = await warren.signIn(email, password);
  form.reset();
  if (mfa) {
    pendingSignIn = mfa;
    navigate("/signin-code");
    return;
  }
  announce(`Signed in as ${warren.user.email}.`);
  navigate("/profile");
});

onSubmit("signin-code-form", async ({ code }, form) => {
  try {
    await warren.signInWithCode(pendingSignIn.token, code.trim());
  } catch (error) {
    if (error.code === "invalid_mfa_token") {
      // Expired, or too many wrong codes: this signin is over.
      pendingSignIn = null;
      announce("That sign-in attempt expired. Please sign in again.");
      navigate("/signin");
      return;
    }
    throw error;
  }
  pendingSignIn = null;
  form.reset();
  announce(`Signed in as ${warren.user.email}.`);
  navigate("/profile");
});

onSubmit("signup-form", async ({ email, password, full_name }, form) => {
  await warren.signUp({ email, password, full_name: full_name.trim() || null });
  form.reset();
  announce(`Account created. We sent a verification link to ${email}. You can sign in now.`);
  navigate("/signin");
});

onSubmit("forgot-form", async ({ email }, form) => {
  await warren.forgotPassword(email);
  form.reset();
  announce("If that address has an account, a reset link is on its way.");
});

onSubmit("reset-form", async ({ password }, form) => {
  const token = linkToken();
  if (!token) throw new WarrenError(400, { detail: "Open the whole link from the email." });
  await warren.resetPassword(token, password);
  form.reset();
  history.replaceState(null, "", location.pathname);
  announce("Your password was changed and every session signed out. Sign in with the new one.");
  navigate("/signin");
});

onSubmit("name-form", async ({ full_name }) => {
  await warren.updateMe({ full_name: full_name.trim() || null });
  announce("Name saved.");
});

onSubmit("email-form", async ({ email, current_password }, form) => {
  await warren.updateMe({ email, current_password });
  form.reset();
  announce(`We sent a confirmation link to ${email}.`);
});

onSubmit("password-form", async ({ current_password, password }, form) => {
  await warren.updateMe({ password, current_password });
  form.reset();
  announce("Password changed. Your other sessions were signed out.");
});

onSubmit("avatar-form", async (_, form) => {
  const file = $("#avatar-file").files[0];
  if (!file) throw new WarrenError(422, { detail: "Choose an image first." });
  await warren.uploadAvatar(file);
  form.reset();
  announce("Avatar updated.");
});

onSubmit("mfa-enrol-form", async ({ current_password }, form) => {
  const { secret, otpauth_uri: uri } = await warren.startTotp(current_password);
  form.reset();
  // The QR code is drawn here, from the URI: the secret goes to no other server.
  $("#mfa-qr").replaceChildren(qrSvg(uri, { label: "QR code for your authenticator app" }));
  $("#mfa-qr").dataset.uri = uri;
  $("#mfa-secret").textContent = secret;
  form.hidden = true;
  $("#mfa-confirm-form").hidden = false;
  $("#mfa-confirm-code").focus();
  announce("Scan the QR code with your authenticator app, then enter the code it shows.");
});

onSubmit("mfa-confirm-form", async ({ code }, form) => {
  const codes = await warren.confirmTotp(code.trim());
  form.reset();
  form.hidden = true;
  $("#mfa-qr").replaceChildren();
  $("#mfa-secret").textContent = "";
  showRecoveryCodes(codes);
  announce("Two-factor sign-in is on. Save your recovery codes.");
});

onSubmit("mfa-regenerate-form", async ({ current_password, code }, form) => {
  const codes = await warren.regenerateRecoveryCodes(current_password, code.trim());
  form.reset();
  showRecoveryCodes(codes);
  announce("New recovery codes made; the old ones no longer work.");
});

onSubmit("mfa-disable-form", async ({ current_password, code }, form) => {
  await warren.disableTotp(current_password, code.trim());
  form.reset();
  showRecoveryCodes(null);
  announce("Two-factor sign-in is off.");
});

onSubmit("delete-form", async ({ current_password }, form) => {
  await warren.deleteAccount(current_password);
  form.reset();
});

$("#avatar-remove").addEventListener("click", async () => {
  try {
    await warren.removeAvatar();
    await warren.me();
    announce("Avatar removed.");
  } catch (error) {
    showError($("#avatar-form"), error);
  }
});

$("#resend-verification").addEventListener("click", async () => {
  await warren.resendVerification();
  announce("A new verification link is on its way.");
});

$("#sign-out").addEventListener("click", () => warren.signOut());

// ---- profile and sessions --------------------------------------------------------------------

function renderProfile(user) {
  if (!user) return;
  $("#profile-name").textContent = user.full_name ?? "(no name)";
  $("#profile-email").textContent = user.email;
  $("#profile-verified").textContent = user.email_verified ? "Email verified" : "Email not verified yet";
  $("#resend-verification").hidden = user.email_verified;
  const pending = $("#profile-pending");
  pending.hidden = !user.pending_email;
  pending.textContent = user.pending_email ? `Waiting for confirmation: ${user.pending_email}` : "";
  if (document.activeElement !== $("#name-input")) $("#name-input").value = user.full_name ?? "";
  const avatar = $("#avatar");
  avatar.hidden = !user.avatar_url;
  if (user.avatar_url) avatar.src = warren.url(user.avatar_url);
  else avatar.removeAttribute("src");
}

function renderTwoFactor(user) {
  if (!user) return;
  const enrolling = !$("#mfa-confirm-form").hidden;
  $("#mfa-state").textContent = user.mfa_enabled
    ? "Two-factor sign-in is on: signing in asks for a code from your authenticator app."
    : "Two-factor sign-in is off: your password alone signs you in.";
  $("#mfa-enrol-form").hidden = user.mfa_enabled || enrolling;
  $("#mfa-regenerate-form").hidden = !user.mfa_enabled;
  $("#mfa-disable-form").hidden = !user.mfa_enabled;
}

/** Shows a fresh set of recovery codes (and moves focus to them), or hides them (`null`). */
function showRecoveryCodes(codes) {
  const items = (codes ?? []).map((code) => {
    const item = document.createElement("li");
    item.textContent = code;
    return item;
  });
  $("#mfa-recovery-codes").replaceChildren(...items);
  $("#mfa-recovery").hidden = !codes;
  if (codes) $("#mfa-recovery h2").focus();
}

async function loadSessions() {
  const view = $('[data-view="sessions"]');
  try {
    const sessions = await warren.sessions();
    const rows = sessions.map((session) => {
      const row = document.createElement("tr");
      const device = session.current ? `${session.user_agent ?? "Unknown"} (this browser)` : session.user_agent ?? "Unknown";
      for (const text of [device, session.ip ?? "", when(session.created_at), when(session.last_used_at)]) {
        const cell = document.createElement("td");
        cell.textContent = text;
        row.append(cell);
      }
      if (session.current) row.classList.add("current");
      return row;
    });
    $("#sessions-list").replaceChildren(...rows);
    $("#sign-out-others").disabled = sessions.every((session) => session.current);
  } catch (error) {
    showError(view, error);
  }
}

function when(time) {
  return new Date(time).toLocaleString();
}

$("#sign-out-others").addEventListener("click", async () => {
  const view = $('[data-view="sessions"]');
  try {
    const others = (await warren.sessions()).filter((session) => !session.current);
    await Promise.all(others.map((session) => warren.endSession(session.id)));
    announce(`Signed out ${others.length} other session${others.length === 1 ? "" : "s"}.`);
    await loadSessions();
  } catch (error) {
    showError(view, error);
  }
});

// ---- wiring ----------------------------------------------------------------------------------

warren.addEventListener("user", (event) => {
  renderProfile(event.detail);
  renderTwoFactor(event.detail);
});
// The header shows whether live updates flow; the last close code stays on the element
// (the end-to-end tests read it: 4401 means Warren ended this session's socket).
warren.addEventListener("socket", ({ detail }) => {
  const live = $("#live");
  live.hidden = !detail.open;
  live.dataset.state = detail.open ? "open" : "closed";
  if (!detail.open) live.dataset.closeCode = detail.code;
});
warren.addEventListener("signedout", (event) => {
  announce(SIGNED_OUT_MESSAGES[event.detail.reason] ?? SIGNED_OUT_MESSAGES.ended);
  navigate("/signin");
});

document.addEventListener("click", (event) => {
  const link = event.target.closest("a[data-link]");
  if (!link || event.ctrlKey || event.metaKey || event.shiftKey) return;
  event.preventDefault();
  navigate(link.getAttribute("href"));
});
window.addEventListener("popstate", route);

await warren.restore(); // a reload keeps the session: the refresh cookie survives it
route();
