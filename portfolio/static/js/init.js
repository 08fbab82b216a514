// Starts GOV.UK Frontend's JavaScript components (accordion, character count,
// error summary, ...). Committed source, not built.
//
// Load it once per page, at the end of <body>, as an ES module:
//   <script type="module" src="/static/js/init.js"></script>
// It imports govuk-frontend.min.js (an ES module copied from the
// govuk-frontend package by scripts/build-assets) from this same folder.
//
// GOV.UK Frontend's page template adds `js-enabled` and
// `govuk-frontend-supported` to <body> with an inline <script>. The app's
// Content-Security-Policy forbids inline scripts, so this module does it.
// A browser that runs module scripts is exactly one GOV.UK Frontend supports
// (the inline snippet tests `'noModule' in HTMLScriptElement.prototype`), so
// no further check is needed. Without JavaScript the components fall back to
// their plain HTML, as GOV.UK Frontend intends.

import { initAll } from './govuk-frontend.min.js'
import { watchExportStatus } from './exports.js'
import { followQueueKeys } from './queue-keys.js'

document.body.classList.add('js-enabled', 'govuk-frontend-supported')

initAll()
watchExportStatus(document.getElementById('export-status'))
followQueueKeys(document)
