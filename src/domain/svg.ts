// Annotation SVG, sanitised in one linear pass over a streaming XML parser (saxes): no
// script, no event handler, no foreignObject, no style, and no reference outside the
// document (only `#fragment` links survive). The work is bounded before anything is kept:
// at most SVG_LIMITS.maxElements elements, SVG_LIMITS.maxDepth levels of nesting and
// SVG_LIMITS.maxAttributes attributes per element, counted
// as the parser meets them, so a hostile document is refused after at most that much work
// (the DOMPurify-on-jsdom sanitiser this replaces took seconds on 50 KB of nested <g>; see
// `npm run bench -- svg`). The allow-lists are DOMPurify's SVG and SVG-filter profiles.
import { SaxesParser, type SaxesTagPlain } from 'saxes';
import { badInput, DomainError, ErrorCode } from './errors.ts';

/** Bounds of one annotation (README, Security). */
export const SVG_LIMITS = { maxElements: 5000, maxDepth: 64, maxAttributes: 100 };

const SVG_NS = 'http://www.w3.org/2000/svg';
const XLINK_NS = 'http://www.w3.org/1999/xlink';

// DOMPurify 3 `svg` + `svgFilters` tag profiles, minus what the old FORBID_TAGS removed (style).
const ALLOWED_TAGS = new Set(
  [
    'svg', 'a', 'altglyph', 'altglyphdef', 'altglyphitem', 'animatecolor', 'animatemotion', 'animatetransform',
    'circle', 'clippath', 'defs', 'desc', 'ellipse', 'filter', 'font', 'g', 'glyph', 'glyphref', 'hkern', 'image',
    'line', 'lineargradient', 'marker', 'mask', 'metadata', 'mpath', 'path', 'pattern', 'polygon', 'polyline',
    'radialgradient', 'rect', 'stop', 'switch', 'symbol', 'text', 'textpath', 'title', 'tref', 'tspan', 'view', 'vkern',
    'feblend', 'fecolormatrix', 'fecomponenttransfer', 'fecomposite', 'feconvolvematrix', 'fediffuselighting',
    'fedisplacementmap', 'fedistantlight', 'fedropshadow', 'feflood', 'fefunca', 'fefuncb', 'fefuncg', 'fefuncr',
    'fegaussianblur', 'feimage', 'femerge', 'femergenode', 'femorphology', 'feoffset', 'fepointlight',
    'fespecularlighting', 'fespotlight', 'fetile', 'feturbulence',
  ],
);

// DOMPurify 3 `svg` + `xml` attribute profiles, minus `style` (the old FORBID_ATTR) and the
// namespace declarations, which the sanitiser writes itself.
const ALLOWED_ATTRIBUTES = new Set(
  [
    'accent-height', 'accumulate', 'additive', 'alignment-baseline', 'amplitude', 'ascent', 'attributename',
    'attributetype', 'azimuth', 'basefrequency', 'baseline-shift', 'begin', 'bias', 'by', 'class', 'clip',
    'clippathunits', 'clip-path', 'clip-rule', 'color', 'color-interpolation', 'color-interpolation-filters',
    'color-profile', 'color-rendering', 'cx', 'cy', 'd', 'dx', 'dy', 'diffuseconstant', 'direction', 'display',
    'divisor', 'dominant-baseline', 'dur', 'edgemode', 'elevation', 'end', 'exponent', 'fill', 'fill-opacity',
    'fill-rule', 'filter', 'filterunits', 'flood-color', 'flood-opacity', 'font-family', 'font-size',
    'font-size-adjust', 'font-stretch', 'font-style', 'font-variant', 'font-weight', 'fx', 'fy', 'g1', 'g2',
    'glyph-name', 'glyphref', 'gradientunits', 'gradienttransform', 'height', 'href', 'id', 'image-rendering', 'in',
    'in2', 'intercept', 'k', 'k1', 'k2', 'k3', 'k4', 'kerning', 'keypoints', 'keysplines', 'keytimes', 'lang',
    'lengthadjust', 'letter-spacing', 'kernelmatrix', 'kernelunitlength', 'lighting-color', 'local', 'marker-end',
    'marker-mid', 'marker-start', 'markerheight', 'markerunits', 'markerwidth', 'maskcontentunits', 'maskunits',
    'max', 'mask', 'mask-type', 'media', 'method', 'mode', 'min', 'name', 'numoctaves', 'offset', 'operator',
    'opacity', 'order', 'orient', 'orientation', 'origin', 'overflow', 'paint-order', 'path', 'pathlength',
    'patterncontentunits', 'patterntransform', 'patternunits', 'pointer-events', 'points', 'preservealpha',
    'preserveaspectratio', 'primitiveunits', 'r', 'rx', 'ry', 'radius', 'refx', 'refy', 'repeatcount', 'repeatdur',
    'restart', 'result', 'rotate', 'scale', 'seed', 'shape-rendering', 'slope', 'specularconstant',
    'specularexponent', 'spreadmethod', 'startoffset', 'stddeviation', 'stitchtiles', 'stop-color', 'stop-opacity',
    'stroke-dasharray', 'stroke-dashoffset', 'stroke-linecap', 'stroke-linejoin', 'stroke-miterlimit',
    'stroke-opacity', 'stroke', 'stroke-width', 'surfacescale', 'systemlanguage', 'tabindex', 'tablevalues',
    'targetx', 'targety', 'transform', 'transform-origin', 'text-anchor', 'text-decoration', 'text-orientation',
    'text-rendering', 'textlength', 'type', 'u1', 'u2', 'unicode', 'values', 'vector-effect', 'viewbox',
    'visibility', 'version', 'vert-adv-y', 'vert-origin-x', 'vert-origin-y', 'width', 'word-spacing', 'wrap',
    'writing-mode', 'xchannelselector', 'ychannelselector', 'x', 'x1', 'x2', 'y', 'y1', 'y2', 'z', 'zoomandpan',
    'xlink:href', 'xml:id', 'xlink:title', 'xml:space',
  ],
);
const ARIA_OR_DATA = /^(aria-[-\w]+|data-[-\w.]+)$/;
const LINK_ATTRIBUTES = new Set(['href', 'xlink:href']);
/** url(...) in a presentation attribute that points anywhere but a fragment. */
const EXTERNAL_URL = /url\s*\(\s*(?!['"]?\s*#)/i;
/** Schemes that run code or smuggle a document, however the value is spaced or encoded by the parser. */
const SCRIPT_OR_DATA = /^[\s\u0000-\u001f]*(javascript|vbscript|data)\s*:/i;

const NOT_SVG = 'An annotation is an SVG document (<svg ...>)';

function escapeText(text: string): string {
  return text.replace(/[&<>]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : '&gt;'));
}

function escapeAttribute(value: string): string {
  return value.replace(/[&<>"]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : '&quot;'));
}

function keptAttribute(name: string, value: string): boolean {
  if (!ALLOWED_ATTRIBUTES.has(name) && !ARIA_OR_DATA.test(name)) return false;
  const trimmed = value.trim();
  if (LINK_ATTRIBUTES.has(name)) return trimmed.startsWith('#');
  return !EXTERNAL_URL.test(trimmed) && !SCRIPT_OR_DATA.test(trimmed);
}

/** The sanitised markup, or BAD_USER_INPUT when it is too large, too deep, or not an SVG document. */
export function sanitizeSvg(svg: string, maxBytes: number, field = 'svg', limits = SVG_LIMITS): string {
  if (Buffer.byteLength(svg) > maxBytes) {
    throw new DomainError(ErrorCode.PAYLOAD_TOO_LARGE, `An annotation is at most ${maxBytes} bytes`, { field });
  }
  if (!/^\s*(<\?xml[^>]*>\s*)?(<!--[\s\S]*?-->\s*)*<svg[\s>/]/i.test(svg)) throw badInput(field, NOT_SVG);

  const out: string[] = [];
  // One entry per open element: whether it is written out. Inside a dropped element
  // (script, foreignObject, anything not allowed) nothing is written, content included.
  const open: boolean[] = [];
  let dropping = 0;
  let elements = 0;
  let attributes = 0;
  let usesXlink = false;
  const parser = new SaxesParser({ xmlns: false, position: false });

  parser.on('doctype', () => {
    throw badInput(field, 'An annotation has no DOCTYPE');
  });
  parser.on('opentagstart', () => {
    elements += 1;
    if (elements > limits.maxElements) throw badInput(field, `An annotation has at most ${limits.maxElements} elements`);
    if (open.length + 1 > limits.maxDepth) throw badInput(field, `An annotation nests at most ${limits.maxDepth} elements deep`);
    attributes = 0;
  });
  // The parser's duplicate-attribute check grows with the square of an element's attributes.
  parser.on('attribute', () => {
    attributes += 1;
    if (attributes > limits.maxAttributes) throw badInput(field, `An annotation element has at most ${limits.maxAttributes} attributes`);
  });
  parser.on('opentag', (tag: SaxesTagPlain) => {
    const name = tag.name.toLowerCase();
    if (open.length === 0 && name !== 'svg') throw badInput(field, NOT_SVG);
    const kept = dropping === 0 && ALLOWED_TAGS.has(name);
    open.push(kept);
    if (!kept) {
      dropping += 1;
      return;
    }
    let markup = `<${tag.name}`;
    if (open.length === 1) markup += ` xmlns="${SVG_NS}"`;
    for (const [rawName, value] of Object.entries(tag.attributes)) {
      const attribute = rawName.toLowerCase();
      if (!keptAttribute(attribute, value)) continue;
      if (attribute.startsWith('xlink:')) usesXlink = true;
      markup += ` ${rawName}="${escapeAttribute(value)}"`;
    }
    out.push(tag.isSelfClosing ? `${markup}/>` : `${markup}>`);
  });
  parser.on('closetag', (tag: SaxesTagPlain) => {
    const kept = open.pop();
    if (!kept) dropping -= 1;
    else if (!tag.isSelfClosing) out.push(`</${tag.name}>`);
  });
  const text = (data: string) => {
    if (dropping === 0 && open.length > 0) out.push(escapeText(data));
  };
  parser.on('text', text);
  parser.on('cdata', text);
  // Comments and processing instructions are dropped (no handler).

  try {
    parser.write(svg).close();
  } catch (error) {
    if (error instanceof DomainError) throw error;
    throw badInput(field, 'An annotation is a well-formed SVG (XML) document');
  }
  if (out.length === 0) throw badInput(field, NOT_SVG);
  if (usesXlink) out[0] = out[0]!.replace(/^<(\S+?)(?=[\s/>])/, `$& xmlns:xlink="${XLINK_NS}"`);
  return out.join('').trim();
}
