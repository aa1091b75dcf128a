export type { PixelEvent, PixelSnippetOptions } from './snippet.js';
export { DEFAULT_PIXEL_SCRIPT_URL, pixelSnippet, toInlineJson } from './snippet.js';
