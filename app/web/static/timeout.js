// The session's idle limit, said before it happens (WCAG 2.2.1 Timing Adjustable: warned, and
// able to extend with one action, at least 20 seconds before). Two minutes before the session
// ends, a dialog says so and offers "Stay signed in" (which calls /session/keep-alive, the
// normal session check that refreshes the idle clock). When the time is up, unsaved forms are
// kept as drafts, the session is ended, and the sign-in page says why.
//
// The seconds left come from <meta name="casework-session-idle">, rendered from the session's
// own row. Other tabs of the same session share the latest end time through localStorage, so
// activity in one tab is not cut short by another.

import { saveAll } from "/static/drafts.js";

const WARN_BEFORE_S = 120;
const ACT_BEFORE_S = 5;
const DEFAULT_S = 30 * 60;
const SHARED = "casework-session-ends-at";

const signOutForm = document.querySelector('form[action="/sign-out"]');
let endsAt = 0;
let warnTimer = null;
let endTimer = null;
let dialog = null;
let returnFocus = null;
let countdown = null;

function sharedEnd() {
  try {
    return Number(window.localStorage.getItem(SHARED)) || 0;
  } catch {
    return 0;
  }
}

function setEnd(secondsLeft) {
  endsAt = Date.now() + secondsLeft * 1000;
  try {
    window.localStorage.setItem(SHARED, String(endsAt));
  } catch {
    // Storage refused (private mode): this tab keeps its own clock.
  }
  schedule();
}

function schedule() {
  window.clearTimeout(warnTimer);
  window.clearTimeout(endTimer);
  const now = Date.now();
  warnTimer = window.setTimeout(warn, Math.max(0, endsAt - WARN_BEFORE_S * 1000 - now));
  endTimer = window.setTimeout(end, Math.max(0, endsAt - ACT_BEFORE_S * 1000 - now));
}

// Another tab was used more recently: follow its clock instead of acting on this one.
function laterElsewhere() {
  const shared = sharedEnd();
  if (shared > endsAt + 1000) {
    endsAt = shared;
    close();
    schedule();
    return true;
  }
  return false;
}

function minutesText(seconds) {
  if (seconds > 90) return `${Math.ceil(seconds / 60)} minutes`;
  if (seconds > 60) return "2 minutes";
  if (seconds > 20) return "1 minute";
  return "a few seconds";
}

function stylesheet() {
  if (!document.querySelector('link[href="/static/drafts.css"]')) {
    const link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = "/static/drafts.css";
    document.head.append(link);
  }
}

function buildDialog() {
  stylesheet();
  const box = document.createElement("dialog");
  box.className = "app-timeout";
  box.setAttribute("aria-labelledby", "app-timeout-title");
  box.setAttribute("aria-describedby", "app-timeout-text");
  box.innerHTML = `
    <h2 class="govuk-heading-m" id="app-timeout-title">You are about to be signed out</h2>
    <p class="govuk-body" id="app-timeout-text">For your security, you will be signed out in <span data-timeout-left>2 minutes</span>.</p>
    <p class="govuk-body">Anything you have typed into a form will be kept as a draft.</p>
    <div class="govuk-button-group">
      <button type="button" class="govuk-button govuk-!-margin-bottom-0" data-module="govuk-button" data-timeout-stay>Stay signed in</button>
      <button type="button" class="app-link-button govuk-link" data-timeout-leave>Sign out now</button>
    </div>`;
  box.querySelector("[data-timeout-stay]").addEventListener("click", stay);
  box.querySelector("[data-timeout-leave]").addEventListener("click", () => end(true));
  // Escape is the same as "Stay signed in" (the person is clearly there).
  box.addEventListener("cancel", (event) => {
    event.preventDefault();
    stay();
  });
  document.body.append(box);
  return box;
}

function updateLeft() {
  const left = Math.max(0, Math.round((endsAt - Date.now()) / 1000));
  const counter = dialog.querySelector("[data-timeout-left]");
  if (counter) counter.textContent = minutesText(left);
}

function warn() {
  if (laterElsewhere()) return;
  dialog = dialog || buildDialog();
  if (dialog.open) return;
  returnFocus = document.activeElement;
  updateLeft();
  dialog.showModal();
  (dialog.querySelector("[data-timeout-stay]") || dialog.querySelector("[data-timeout-leave]")).focus();
  countdown = window.setInterval(updateLeft, 20000);
}

function close() {
  window.clearInterval(countdown);
  if (dialog && dialog.open) {
    dialog.close();
    if (returnFocus && typeof returnFocus.focus === "function") returnFocus.focus();
  }
}

async function stay() {
  let response;
  try {
    response = await fetch("/session/keep-alive", { credentials: "same-origin", redirect: "manual" });
  } catch {
    return; // offline: leave the dialog up; the end still comes on time
  }
  if (response.status !== 204) {
    goToSignIn(false);
    return;
  }
  const left = Number(response.headers.get("X-Session-Expires-In")) || DEFAULT_S;
  if (left <= WARN_BEFORE_S + ACT_BEFORE_S) {
    // The session's absolute limit (ASVS 3.3.2), which nothing extends: say so plainly.
    dialog.querySelector("[data-timeout-stay]")?.remove();
    dialog.querySelector("#app-timeout-text").textContent =
      "You have been signed in for as long as Casework allows. Save what you are doing: you will be signed out in a moment, and then need to sign in again.";
    dialog.querySelector("[data-timeout-leave]").focus();
    setEnd(left);
    return;
  }
  close();
  setEnd(left);
}

function goToSignIn(kept) {
  const here = window.location.pathname + window.location.search;
  const query = new URLSearchParams({ next: here, timeout: "1" });
  if (kept) query.set("draft", "kept");
  window.location.assign(`/sign-in?${query}`);
}

async function end(now = false) {
  if (!now && laterElsewhere()) return;
  window.clearTimeout(warnTimer);
  window.clearTimeout(endTimer);
  const kept = await saveAll();
  // End the session on the server too, rather than leaving it to run out.
  try {
    await fetch("/sign-out", {
      method: "POST",
      body: new URLSearchParams(new FormData(signOutForm)),
      credentials: "same-origin",
      redirect: "manual",
    });
  } catch {
    // The server will end it at its own limit anyway.
  }
  try {
    window.localStorage.removeItem(SHARED);
  } catch {
    // nothing to tidy
  }
  goToSignIn(kept);
}

if (signOutForm) {
  const meta = document.querySelector('meta[name="casework-session-idle"]');
  const onForm = document.querySelector("[data-session-expires-in]");
  const seconds = Number(meta?.content ?? onForm?.dataset.sessionExpiresIn ?? DEFAULT_S);
  setEnd(Number.isFinite(seconds) && seconds > 0 ? seconds : DEFAULT_S);
  // An autosave is activity too: the server has refreshed the idle clock.
  document.addEventListener("casework:session", (event) => setEnd(event.detail.expiresIn));
}
