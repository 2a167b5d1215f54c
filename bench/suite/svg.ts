/**
 * Horizontal bar charts as standalone SVG text: one bar per figure at its median, a whisker from
 * min to max, the value printed at the bar's end. No dependency; readable on GitHub and in a
 * browser.
 */

/** One bar. */
export interface Bar {
  readonly label: string;
  readonly median: number;
  readonly min: number;
  readonly max: number;
  /** Bars of one system share a colour: 'brook', 'kafka-mock', 'redis-streams', ... */
  readonly group: string;
}

const PALETTE = ['#2b6cb0', '#dd6b20', '#38a169', '#805ad5', '#d53f8c', '#718096', '#b7791f'];

function xml(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

function format(x: number): string {
  if (x >= 100) return Math.round(x).toLocaleString('en-US');
  if (x >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

/** A bar chart of `bars` titled `title`, values in `unit`. */
export function barChart(title: string, unit: string, bars: readonly Bar[]): string {
  const labelWidth = 420;
  const plotWidth = 440;
  const valueWidth = 110;
  const row = 22;
  const top = 44;
  const groups = [...new Set(bars.map((b) => b.group))];
  const legendHeight = 20;
  const height = top + bars.length * row + legendHeight + 16;
  const width = labelWidth + plotWidth + valueWidth;
  const scaleMax = Math.max(1e-9, ...bars.map((b) => b.max), ...bars.map((b) => b.median));
  const x = (v: number): number => labelWidth + (v / scaleMax) * plotWidth;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12" role="img">`,
    `<title>${xml(title)}</title>`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="8" y="20" font-size="15" font-weight="bold">${xml(title)}</text>`,
    `<text x="8" y="36" fill="#555">${xml(unit)}: bar = median, whisker = min to max</text>`,
  ];
  bars.forEach((b, i) => {
    const y = top + i * row;
    const colour = PALETTE[groups.indexOf(b.group) % PALETTE.length] as string;
    out.push(
      `<text x="${labelWidth - 6}" y="${y + 15}" text-anchor="end">${xml(b.label)}</text>`,
      `<rect x="${labelWidth}" y="${y + 4}" width="${Math.max(1, x(b.median) - labelWidth).toFixed(1)}" height="${row - 8}" fill="${colour}"/>`,
      `<line x1="${x(b.min).toFixed(1)}" x2="${x(b.max).toFixed(1)}" y1="${y + row / 2}" y2="${y + row / 2}" stroke="#000" stroke-width="1"/>`,
      `<text x="${labelWidth + plotWidth + 6}" y="${y + 15}">${xml(format(b.median))}</text>`,
    );
  });
  let lx = 8;
  const ly = top + bars.length * row + 14;
  for (const [i, g] of groups.entries()) {
    out.push(
      `<rect x="${lx}" y="${ly - 10}" width="12" height="12" fill="${PALETTE[i % PALETTE.length]}"/>`,
      `<text x="${lx + 16}" y="${ly}">${xml(g)}</text>`,
    );
    lx += 28 + g.length * 7;
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
