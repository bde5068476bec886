import { dispositionFilename } from '@/api/client'
import { notifyError } from '@/utils/notify'

/** Hands a blob to the browser as a download named `filename`. */
export function saveBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob)
  const a = document.createElement('a')
  a.href = url
  a.download = filename
  a.style.display = 'none'
  document.body.appendChild(a)
  a.click()
  a.remove()
  // Give the browser time to start reading the blob before releasing it.
  setTimeout(() => URL.revokeObjectURL(url), 60_000)
}

/**
 * Saves the answer of a file download made with the API client
 * (`client.GET(path, { …, parseAs: 'blob' })`, i.e. fetch with the session
 * cookie) under the name from Content-Disposition, or `fallbackName`.
 * Shows the server's detail on failure. Resolves true when the file was saved.
 */
export async function saveDownload(
  call: Promise<{ data?: Blob; error?: unknown; response: Response }>,
  fallbackName: string,
): Promise<boolean> {
  const { data, error, response } = await call
  if (error !== undefined || !data) {
    notifyError(error, response)
    return false
  }
  saveBlob(data, dispositionFilename(response.headers.get('Content-Disposition')) || fallbackName)
  return true
}
