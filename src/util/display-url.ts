/**
 * A URL as every message and log line shows it: scheme, host, port and path only. The user
 * info (a mirror's user:password@), the query (a token, a pre-signed URL's signature) and the
 * fragment may carry secrets, and a refused or failing URL is printed before anyone could mask
 * them; what is left still says which server and which file.
 */
export function displayUrl(url: string | URL): string {
  try {
    const u = typeof url === 'string' ? new URL(url) : url
    return `${u.protocol}//${u.host}${u.pathname}`
  } catch {
    // Not a URL: cut at the first "?" or "#" and drop anything up to an "@" in the authority.
    return String(url)
      .replace(/[?#][\s\S]*$/, '')
      .replace(/^([^/]*\/\/)[^/]*@/, '$1')
  }
}
