// SVG annotation sanitiser benchmark, in process (the sanitiser's own time, no HTTP):
// the streaming sanitiser of src/domain/svg.ts against the DOMPurify-on-jsdom one it replaced
// (kept here only for the comparison), on the same inputs. DOMPurify in a worker thread
// would cost at least its time below plus the hand-off, so these rows decide that too.
//
//   npm run bench -- svg [--runs 20]
import createDOMPurify from 'dompurify';
import { JSDOM } from 'jsdom';
import { performance } from 'node:perf_hooks';
import { sanitizeSvg, SVG_LIMITS } from '../src/domain/svg.ts';

const index = process.argv.indexOf('--runs');
const RUNS = index >= 0 ? Number(process.argv[index + 1]) : 20;

const purify = createDOMPurify(new JSDOM('').window as unknown as Window & typeof globalThis);
function domPurify(svg: string): string {
  return purify.sanitize(svg, {
    USE_PROFILES: { svg: true, svgFilters: true },
    FORBID_TAGS: ['foreignObject', 'script', 'style', 'iframe', 'object', 'embed'],
    FORBID_ATTR: ['style'],
  });
}
function streaming(svg: string): string {
  try {
    return sanitizeSvg(svg, 1 << 30);
  } catch (error) {
    return (error as Error).message;
  }
}

const NS = 'xmlns="http://www.w3.org/2000/svg"';
const inputs: [string, string, number][] = [
  ['typical (40 shapes, 2 KB)', `<svg ${NS} viewBox="0 0 100 100">${'<circle cx="5" cy="5" r="3" fill="red" onclick="x()"/>'.repeat(40)}</svg>`, RUNS],
  [`${SVG_LIMITS.maxElements - 1} flat elements (the bound)`, `<svg ${NS}>${'<rect x="1" y="2" width="3" height="4"/>'.repeat(SVG_LIMITS.maxElements - 1)}</svg>`, RUNS],
  [`${SVG_LIMITS.maxDepth} nested <g> (the bound)`, `<svg ${NS}>${'<g>'.repeat(SVG_LIMITS.maxDepth - 1)}<rect/>${'</g>'.repeat(SVG_LIMITS.maxDepth - 1)}</svg>`, RUNS],
  ['50 KB hostile: <g>x10000 </g>x5000 (refused)', '<svg>' + '<g>'.repeat(10000) + '</g>'.repeat(5000), 1],
];

function time(fn: (svg: string) => string, svg: string, runs: number): string {
  const started = performance.now();
  try {
    for (let i = 0; i < runs; i++) fn(svg);
  } catch (error) {
    return `${(performance.now() - started).toFixed(0)} (${(error as Error).name})`;
  }
  return ((performance.now() - started) / runs).toFixed(2);
}

console.log(`${'input'.padEnd(48)} ${'bytes'.padStart(8)} ${'streaming ms'.padStart(13)} ${'DOMPurify ms'.padStart(13)}`);
for (const [name, svg, runs] of inputs) {
  streaming(svg);
  const fast = time(streaming, svg, runs);
  const slow = time(domPurify, svg, runs);
  console.log(`${name.padEnd(48)} ${String(svg.length).padStart(8)} ${fast.padStart(13)} ${slow.padStart(13)}`);
}
