/**
 * A user agent as a person names their device: "Firefox on Windows", "Safari on iPhone", "curl".
 *
 * Hand-written rather than a parser library (ua-parser-js, bowser): the sessions list needs only a browser family
 * and a platform, a full parser would add tens of kilobytes to every page load for one line of one screen, and the
 * server keeps user agents short, so the details a parser reads are often cut off anyway. Plain substring checks,
 * in an order that settles the agents that name several browsers (Edge and Opera say "Chrome", Chrome says
 * "Safari", an iPhone says "like Mac OS X").
 */
const BROWSERS: readonly (readonly [marker: string, name: string])[] = [
  ['Edg/', 'Edge'],
  ['EdgA/', 'Edge'],
  ['EdgiOS/', 'Edge'],
  ['OPR/', 'Opera'],
  ['SamsungBrowser/', 'Samsung Internet'],
  ['Firefox/', 'Firefox'],
  ['FxiOS/', 'Firefox'],
  ['HeadlessChrome/', 'Headless Chrome'],
  ['CriOS/', 'Chrome'],
  ['Chromium/', 'Chromium'],
  ['Chrome/', 'Chrome'],
  ['Safari/', 'Safari'],
];

const PLATFORMS: readonly (readonly [marker: string, name: string])[] = [
  ['iPhone', 'iPhone'],
  ['iPad', 'iPad'],
  ['Android', 'Android'],
  ['CrOS', 'ChromeOS'],
  ['Windows', 'Windows'],
  ['Macintosh', 'macOS'],
  ['Mac OS X', 'macOS'],
  ['Linux', 'Linux'],
];

const UNKNOWN = 'Unknown device';
/** The longest name kept from a programme's own user agent ("python-requests/2.32" gives "python-requests"). */
const PRODUCT_MAX = 40;

export function describeDevice(userAgent: string | null | undefined): string {
  const agent = userAgent?.trim() ?? '';
  if (!agent) return UNKNOWN;
  const found = (list: typeof BROWSERS) => list.find(([marker]) => agent.includes(marker))?.[1];
  const browser = found(BROWSERS);
  const platform = found(PLATFORMS);
  if (browser && platform) return `${browser} on ${platform}`;
  if (browser) return browser;
  // Browsers all start with "Mozilla/"; anything else is a programme that names itself first: curl/8.5, node.
  if (!agent.startsWith('Mozilla/')) return productName(agent) || UNKNOWN;
  return platform ? `A browser on ${platform}` : 'A browser';
}

function productName(agent: string): string {
  const end = [agent.indexOf('/'), agent.indexOf(' ')].filter((index) => index >= 0);
  const name = end.length > 0 ? agent.slice(0, Math.min(...end)) : agent;
  return name.slice(0, PRODUCT_MAX);
}
