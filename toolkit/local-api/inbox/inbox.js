// The web inbox: signs in with a JWT (pasted, or ?token=), lists GET /v1/me/inbox (newest first, unread
// count, "Load more" with the opaque cursor), marks items read (POST /v1/me/inbox/{id}/read, /read-all).
// Same origin as the API; every text goes in through textContent (never HTML).

const TOKEN_KEY = "notify.inbox.token";
const $ = (id) => document.getElementById(id);
const state = { token: null, cursor: undefined };

function readToken() {
    const params = new URLSearchParams(location.search);
    const fromUrl = params.get("token");
    if (fromUrl) {
        sessionStorage.setItem(TOKEN_KEY, fromUrl);
        // Keep the token out of the address bar and the history.
        history.replaceState(null, "", location.pathname);
    }
    return sessionStorage.getItem(TOKEN_KEY);
}

/** The token's subject, for display only (the API never trusts the page: it verifies the token). */
function subjectOf(token) {
    try {
        const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
        return JSON.parse(atob(payload)).sub || "?";
    } catch {
        return "?";
    }
}

async function api(method, path) {
    const res = await fetch(path, { method, headers: { authorization: `Bearer ${state.token}` } });
    if (res.status === 401) {
        signOut("Your token was refused (missing, expired or signed with another key).");
        throw new Error("unauthorized");
    }
    const body = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(body.message || `HTTP ${res.status}`);
    return body;
}

function itemElement(item) {
    const li = document.createElement("li");
    li.dataset.id = item.id;
    li.className = item.read ? "read" : "unread";
    const title = document.createElement("h2");
    title.textContent = item.title;
    const body = document.createElement("p");
    body.textContent = item.body;
    const when = document.createElement("time");
    when.dateTime = item.createdAt;
    when.textContent = new Date(item.createdAt).toLocaleString();
    if (!item.read) {
        const button = document.createElement("button");
        button.type = "button";
        button.className = "mark-read";
        button.textContent = "Mark as read";
        button.addEventListener("click", () => markRead(item.id));
        li.append(button);
    }
    li.append(title, body, when);
    return li;
}

function showUnread(count) {
    const badge = $("unread");
    badge.textContent = String(count);
    badge.hidden = count === 0;
    $("status").textContent = count === 0 ? "All caught up." : `${count} unread`;
}

async function load(append) {
    const query = new URLSearchParams({ limit: "20" });
    if (append && state.cursor) query.set("cursor", state.cursor);
    const page = await api("GET", `/v1/me/inbox?${query}`);
    const list = $("items");
    if (!append) list.replaceChildren();
    for (const item of page.items) list.append(itemElement(item));
    state.cursor = page.nextCursor;
    $("more").hidden = !page.nextCursor;
    showUnread(page.unreadCount);
    if (!append && page.items.length === 0) $("status").textContent = "No notifications yet.";
}

async function markRead(id) {
    await api("POST", `/v1/me/inbox/${encodeURIComponent(id)}/read`);
    await load(false);
}

function signOut(message) {
    sessionStorage.removeItem(TOKEN_KEY);
    state.token = null;
    $("inbox").hidden = true;
    $("signin").hidden = false;
    $("who").textContent = "";
    $("unread").hidden = true;
    $("signin-error").textContent = message || "";
}

function signIn(token) {
    state.token = token.trim();
    sessionStorage.setItem(TOKEN_KEY, state.token);
    $("signin").hidden = true;
    $("inbox").hidden = false;
    $("who").textContent = `signed in as ${subjectOf(state.token)}`;
    return load(false);
}

function report(err) {
    if (err.message !== "unauthorized") $("status").textContent = `Error: ${err.message}`;
}

$("signin").addEventListener("submit", (e) => {
    e.preventDefault();
    signIn($("token").value).catch(report);
});
$("refresh").addEventListener("click", () => load(false).catch(report));
$("more").addEventListener("click", () => load(true).catch(report));
$("read-all").addEventListener("click", () =>
    api("POST", "/v1/me/inbox/read-all")
        .then(() => load(false))
        .catch(report),
);
$("signout").addEventListener("click", () => signOut());

const saved = readToken();
if (saved) signIn(saved).catch(report);
else signOut();
