// The one place the SPA learns where Warren is. Use `localhost`, not `127.0.0.1`: the refresh
// cookie is SameSite=Strict, and http://localhost:5173 and http://127.0.0.1:8000 are different
// sites, so the browser would never send it. (`serve.py --warren URL` serves another value.)
export const WARREN_URL = "http://localhost:8000";
