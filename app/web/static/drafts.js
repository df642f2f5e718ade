// Autosave: every form marked data-autosave keeps a draft of what is typed in it, so nothing is
// lost when the session ends or the browser closes. It posts the form's fields (never a
// password) to /drafts/save 2 seconds after typing stops, and every 15 seconds while there is
// something unsaved, and says when it last saved in a polite live region.
//
// The form says what the draft is: data-draft-title (shown on "My work"), data-child-id (the
// child it is about, if any: the draft is then listed only while the user may see the child),
// data-draft-path (the form's own address, when it is not the form's action).
// Without JavaScript nothing here runs and the form posts as usual.

const SAVE_AFTER_MS = 2000;
const SAVE_EVERY_MS = 15000;
const CONTROL = new Set(["draft_form_path", "draft_title", "draft_child_id"]);
const autosaves = [];

function statusRegion(form) {
  let region = form.querySelector("[data-draft-status]");
  if (!region) {
    region = document.createElement("p");
    region.className = "govuk-body govuk-!-margin-top-2 app-drafts__status";
    region.setAttribute("data-draft-status", "");
    region.setAttribute("aria-live", "polite");
    form.append(region);
  }
  return region;
}

function formPath(form) {
  return form.dataset.draftPath || new URL(form.getAttribute("action") || "", window.location.href).pathname;
}

function body(form) {
  const params = new URLSearchParams();
  for (const [name, value] of new FormData(form)) {
    if (typeof value !== "string" || CONTROL.has(name) || /password/i.test(name)) continue;
    params.append(name, value);
  }
  params.set("draft_form_path", formPath(form));
  params.set("draft_title", form.dataset.draftTitle || document.title.split(" – ")[0]);
  if (form.dataset.childId) params.set("draft_child_id", form.dataset.childId);
  return params;
}

function timeNow() {
  return new Date().toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit" });
}

function autosave(form) {
  const region = statusRegion(form);
  let dirty = false;
  let debounce = null;
  let every = null;
  let submitting = false;

  async function save() {
    window.clearTimeout(debounce);
    if (!dirty || submitting) return false;
    dirty = false;
    let response;
    try {
      response = await fetch("/drafts/save", {
        method: "POST",
        body: body(form),
        credentials: "same-origin",
        redirect: "manual",
        headers: { "X-Requested-With": "drafts.js" },
      });
    } catch {
      dirty = true; // offline for a moment: try again on the next round
      region.textContent = "Your draft could not be saved just now. It will be tried again.";
      return false;
    }
    if (response.status === 204) {
      region.textContent = `Draft saved at ${timeNow()}`;
      const left = response.headers.get("X-Session-Expires-In");
      if (left !== null) {
        document.dispatchEvent(new CustomEvent("casework:session", { detail: { expiresIn: Number(left) } }));
      }
      if (!dirty) {
        window.clearInterval(every);
        every = null;
      }
      return true;
    }
    if (response.status === 413) {
      region.textContent = "This form is too long to keep as a draft.";
      return false;
    }
    dirty = true;
    region.textContent = "Your draft could not be saved.";
    return false;
  }

  function changed() {
    if (submitting) return;
    dirty = true;
    window.clearTimeout(debounce);
    debounce = window.setTimeout(save, SAVE_AFTER_MS);
    if (every === null) every = window.setInterval(save, SAVE_EVERY_MS);
  }

  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
  form.addEventListener("submit", () => {
    // The form is being saved for real: the page it goes to deals with the draft.
    submitting = true;
    window.clearTimeout(debounce);
    window.clearInterval(every);
  });
  autosaves.push({ save, isDirty: () => dirty });
}

/** Save every form with unsaved changes now; whether anything was kept. */
export async function saveAll() {
  const results = await Promise.all(autosaves.filter((a) => a.isDirty()).map((a) => a.save()));
  return results.some(Boolean);
}

/** Whether any autosaved form on the page has a draft (saved now or before). */
export function hasAutosave() {
  return autosaves.length > 0;
}

for (const form of document.querySelectorAll("form[data-autosave]")) {
  autosave(form);
}
