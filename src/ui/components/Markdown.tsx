// Markdown for chat messages that can never run code: raw HTML is shown as text (no rehype-raw),
// links are limited to http(s)/mailto, open in a new tab without opener or referrer, and show where
// they lead (a model can write any link text), and images are not fetched (shown as their alt text).
import Markdown, { type Components, type UrlTransform } from 'react-markdown';

const ALLOWED = new Set(['http:', 'https:', 'mailto:']);

/** Parsed the way the browser will parse it (tabs/newlines stripped), so `java\nscript:` is caught. */
export const safeUrl: UrlTransform = (url) => {
  try {
    const parsed = new URL(url, 'https://relative.invalid/');
    return ALLOWED.has(parsed.protocol) && parsed.host !== 'relative.invalid' ? parsed.href : '';
  } catch {
    return '';
  }
};

/** What a link's reader should see of its target: the host, or the address for mailto. */
export function linkTarget(href: string): string {
  const u = new URL(href);
  return u.protocol === 'mailto:' ? u.pathname : u.host;
}

const components: Components = {
  a: ({ href, children }) => (href
    ? (
      <a href={href} target="_blank" rel="noopener noreferrer nofollow" title={href}>
        {children}<span className="md-link-target"> ({linkTarget(href)})</span>
      </a>
    )
    : <span className="md-dead-link">{children}</span>),
  img: ({ alt }) => <span className="md-image">[image{alt ? `: ${alt}` : ''}]</span>,
};

export function SafeMarkdown({ text }: { text: string }) {
  return <Markdown urlTransform={safeUrl} components={components}>{text}</Markdown>;
}
