// Starts the GOV.UK Frontend components. Loaded as a module from our own origin (the CSP allows
// no inline script but the page template's own, which carries the nonce).
import { initAll } from "/assets/govuk-frontend.min.js";
// Autosave of long forms and the session timeout warning (both only enhance: every form still
// posts without them).
import "/static/drafts.js";
import "/static/timeout.js";

initAll();
