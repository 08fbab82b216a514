// Next and previous evidence in the review queue from the keyboard: Alt+Shift+ArrowRight and
// Alt+Shift+ArrowLeft follow the item page's "Next" and "Previous" links (data-queue-key).
// Committed source, not built. A modifier is needed, so that no single key (WCAG 2.1.4) and no
// typing in a field ever moves on.

export function followQueueKeys (doc) {
  doc.addEventListener('keydown', (event) => {
    if (!event.altKey || !event.shiftKey || event.ctrlKey || event.metaKey) return
    const which = { ArrowRight: 'next', ArrowLeft: 'previous' }[event.key]
    const link = which && doc.querySelector(`a[data-queue-key="${which}"]`)
    if (!link) return
    event.preventDefault()
    link.click()
  })
}
