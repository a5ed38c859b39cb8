/**
 * The dashboard page's entry (bundled by `npm run build:ui` into build/ui/app.js). Routes by the URL path so
 * every view has a stable address: `/` and `/runs?kind=…` (runs list), `/run/<ref>` (one run),
 * `/anomaly/<ref>` (an AD-NEv run folder), `/channel/<ref>/<channel>` (one channel's series).
 */
import { h } from './dom.js';
import { renderAnomalyPage } from './anomaly-page.js';
import { renderChannelPage } from './channel-page.js';
import { renderRunPage } from './run-page.js';
import { renderRunsList } from './runs-list.js';

async function start(): Promise<void> {
  const root = document.getElementById('app')!;
  const path = decodeURIComponent(location.pathname);
  try {
    if (path.startsWith('/run/')) {
      await renderRunPage(root, path.slice('/run/'.length));
    } else if (path.startsWith('/channel/')) {
      await renderChannelPage(root, path.slice('/channel/'.length));
    } else if (path.startsWith('/anomaly/')) {
      await renderAnomalyPage(root, path.slice('/anomaly/'.length));
    } else {
      const redraw = await renderRunsList(root);
      setInterval(() => void redraw().catch((error: unknown) => console.warn('refresh failed', error)), 2000);
    }
    document.body.dataset['ready'] = '1';
  } catch (error) {
    root.replaceChildren(h('p', { class: 'warn', 'data-testid': 'page-error' }, error instanceof Error ? error.message : String(error)), h('p', {}, h('a', { href: '/' }, '← all runs')));
    document.body.dataset['ready'] = '1';
  }
}

void start();
