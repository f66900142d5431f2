// Annotation SVG, sanitised by DOMPurify over jsdom: no script, no event handler, no
// foreignObject, and no reference outside the document (only `#fragment` links survive).
import createDOMPurify, { type DOMPurify } from 'dompurify';
import { JSDOM } from 'jsdom';
import { badInput, DomainError, ErrorCode } from './errors.ts';

let purifier: DOMPurify | null = null;

const LINK_ATTRIBUTES = ['href', 'xlink:href', 'src'];
/** url(...) in a style or presentation attribute that points anywhere but a fragment. */
const EXTERNAL_URL = /url\s*\(\s*(?!['"]?\s*#)/i;

function purify(): DOMPurify {
  if (purifier) return purifier;
  const instance = createDOMPurify(new JSDOM('').window as unknown as Window & typeof globalThis);
  instance.addHook('afterSanitizeAttributes', (node) => {
    for (const attribute of Array.from(node.attributes ?? [])) {
      const name = attribute.name.toLowerCase();
      const value = attribute.value.trim();
      if (LINK_ATTRIBUTES.includes(name) && !value.startsWith('#')) node.removeAttribute(attribute.name);
      else if (EXTERNAL_URL.test(value) || /^\s*(javascript|data):/i.test(value)) node.removeAttribute(attribute.name);
    }
  });
  purifier = instance;
  return instance;
}

/** The sanitised markup, or BAD_USER_INPUT when it is too large or not an SVG document. */
export function sanitizeSvg(svg: string, maxBytes: number, field = 'svg'): string {
  if (Buffer.byteLength(svg) > maxBytes) {
    throw new DomainError(ErrorCode.PAYLOAD_TOO_LARGE, `An annotation is at most ${maxBytes} bytes`, { field });
  }
  if (!/^\s*(<\?xml[^>]*>\s*)?(<!--[\s\S]*?-->\s*)*<svg[\s>]/i.test(svg)) {
    throw badInput(field, 'An annotation is an SVG document (<svg ...>)');
  }
  const clean = purify().sanitize(svg, {
    USE_PROFILES: { svg: true, svgFilters: true },
    FORBID_TAGS: ['foreignObject', 'script', 'style', 'iframe', 'object', 'embed'],
    FORBID_ATTR: ['style'],
  });
  const trimmed = clean.trim();
  if (!/^<svg[\s>]/i.test(trimmed)) throw badInput(field, 'An annotation is an SVG document (<svg ...>)');
  return /^<svg[^>]*\sxmlns=/i.test(trimmed) ? trimmed : trimmed.replace(/^<svg/i, '<svg xmlns="http://www.w3.org/2000/svg"');
}
