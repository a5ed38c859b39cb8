/**
 * Fitness-per-evaluation plot for docs/results/merging.md: the best development loss found after each
 * evaluation (mean over seeds) of one strategy, with horizontal reference lines (base, best static merge,
 * random search). A standalone SVG file: no dependencies, readable in any browser and on GitHub.
 */
import type { ReferenceLine } from '../runs/report.js';

const escape = (text: string) => text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

export function evaluationCurveSvg(title: string, curve: readonly number[], references: readonly ReferenceLine[], width = 640, height = 300): string {
  const values = [...curve, ...references.map((r) => r.fitness)].filter(Number.isFinite);
  const pad = { left: 64, right: 170, top: 30, bottom: 40 };
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const span = hi - lo || 1;
  const n = Math.max(curve.length, 1);
  const x = (i: number) => pad.left + (n === 1 ? 0.5 : i / (n - 1)) * (width - pad.left - pad.right);
  const y = (v: number) => pad.top + (1 - (v - lo) / span) * (height - pad.top - pad.bottom);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" role="img" aria-label="${escape(title)}">`,
    '<rect width="100%" height="100%" fill="white"/>',
    `<text x="${pad.left}" y="18" font-size="13" font-family="sans-serif">${escape(title)}</text>`,
  ];
  for (const v of [lo, lo + span / 2, hi]) {
    parts.push(`<line x1="${pad.left}" x2="${width - pad.right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#e5e7eb"/>`);
    parts.push(`<text x="${pad.left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" font-size="11" font-family="sans-serif">${v.toFixed(4)}</text>`);
  }
  for (const i of [0, Math.floor((n - 1) / 2), n - 1]) {
    parts.push(`<text x="${x(i).toFixed(1)}" y="${height - pad.bottom + 16}" text-anchor="middle" font-size="11" font-family="sans-serif">${i + 1}</text>`);
  }
  parts.push(`<text x="${(pad.left + width - pad.right) / 2}" y="${height - 6}" text-anchor="middle" font-size="12" font-family="sans-serif">evaluation</text>`);
  const colours = ['#111827', '#059669', '#9333ea', '#d97706'];
  let lastLabel = -Infinity;
  [...references]
    .filter((r) => Number.isFinite(r.fitness))
    .sort((a, b) => b.fitness - a.fitness)
    .forEach((r, i) => {
      const colour = colours[i % colours.length]!;
      const at = y(r.fitness);
      lastLabel = Math.max(at + 4, lastLabel + 12);
      parts.push(`<line x1="${pad.left}" x2="${width - pad.right}" y1="${at.toFixed(1)}" y2="${at.toFixed(1)}" stroke="${colour}" stroke-dasharray="3 3"/>`);
      parts.push(`<text x="${width - pad.right + 4}" y="${lastLabel.toFixed(1)}" font-size="11" font-family="sans-serif" fill="${colour}">${escape(`${r.label} ${r.fitness.toFixed(4)}`)}</text>`);
    });
  const points = curve.map((v, i) => (Number.isFinite(v) ? `${x(i).toFixed(1)},${y(v).toFixed(1)}` : '')).filter(Boolean);
  parts.push(`<polyline fill="none" stroke="#dc2626" stroke-width="2" points="${points.join(' ')}"/>`);
  if (points.length === 1) parts.push(`<circle cx="${points[0]!.split(',')[0]}" cy="${points[0]!.split(',')[1]}" r="3" fill="#dc2626"/>`);
  parts.push(`<text x="${width - pad.right + 4}" y="${pad.top - 8}" font-size="11" font-family="sans-serif" fill="#dc2626">best dev loss so far</text>`);
  parts.push('</svg>');
  return parts.join('\n');
}
