// While an export is being prepared, fetch its page again every few seconds and put the new
// status region in place of the old one, so the download appears without a full reload.
// Without JavaScript the page's own refresh link does the same.

const POLL_MILLISECONDS = 3000

export function watchExportStatus (region) {
  if (!region || region.dataset.exportStatus !== 'pending') return
  const timer = setInterval(async () => {
    let page
    try {
      const response = await fetch(window.location.href, { headers: { Accept: 'text/html' }, credentials: 'same-origin' })
      if (!response.ok) return
      page = new DOMParser().parseFromString(await response.text(), 'text/html')
    } catch (error) {
      return // offline for a moment: try again at the next tick
    }
    const fresh = page.getElementById(region.id)
    if (!fresh) return
    region.innerHTML = fresh.innerHTML
    region.dataset.exportStatus = fresh.dataset.exportStatus
    if (region.dataset.exportStatus !== 'pending') clearInterval(timer)
  }, POLL_MILLISECONDS)
}
