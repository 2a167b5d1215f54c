/**
 * The markdown report of a run, with one SVG bar chart per case and unit, written next to the
 * JSON: `<stem>.md`, `<stem>-<case>-<n>.svg`.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { num, paramText, spread } from './format.js';
import { barChart } from './svg.js';
import type { CaseResult, Figure, SuiteResult } from './types.js';

function cell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** The header lines: when, where, with what, under what load. */
export function runHeader(r: SuiteResult): string[] {
  const m = r.machine;
  return [
    `- **Date**: ${r.startedAt} to ${r.finishedAt} (${r.mode} run: \`${['npm run bench --', ...r.argv].join(' ')}\`)`,
    `- **Machine**: ${m.nproc} cores (nproc), ${m.cpuModel}, ${num(m.memoryMb / 1000)} GB memory, ${m.platform}, kernel ${m.kernel}; data directories in ${m.tmpFilesystem}`,
    `- **Load average** (1/5/15 min): ${m.loadAverageStart.join(' / ')} at the start${m.loadAverageEnd.length ? `, ${m.loadAverageEnd.join(' / ')} at the end` : ''}`,
    ...(r.note ? [`- **Note**: ${r.note}`] : []),
    `- **Brook broker**: ${r.broker.runtime}; settings ${r.broker.settings.join(', ')}`,
    `- **Versions**: ${Object.entries(r.versions)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
    '- Each figure: median of the runs, (min–max) in brackets; compare figures of one run only.',
  ];
}

/** The goals table. */
export function goalsTable(r: SuiteResult): string[] {
  return [
    '| goal | target | this run | met | how |',
    '| --- | --- | --- | --- | --- |',
    ...r.goals.map(
      (g) =>
        `| ${cell(g.goal)} | ${cell(g.target)} | ${cell(g.actual ?? '—')} | ${g.met === null ? 'n/a' : g.met ? 'yes' : 'no'} | ${cell(g.detail)} |`,
    ),
  ];
}

/** A case's figures as a markdown table. */
export function figureTable(c: CaseResult): string[] {
  if (c.figures.length === 0) return [];
  return [
    '| figure | median (min–max) | unit | MB/s | broker RSS | durability |',
    '| --- | ---: | --- | ---: | ---: | --- |',
    ...c.figures.map(
      (f) =>
        `| ${cell(f.name)} | ${spread(f)} | ${f.unit} | ${f.mbPerSec === undefined ? '' : num(f.mbPerSec)} | ${f.brokerRssMb === undefined ? '' : `${num(f.brokerRssMb)} MB`} | ${cell(f.durability ?? '')} |`,
    ),
  ];
}

/** Figures of one case grouped by unit: one chart each. */
function chartsOf(c: CaseResult): Array<{ unit: string; figures: Figure[] }> {
  const byUnit = new Map<string, Figure[]>();
  for (const f of c.figures) byUnit.set(f.unit, [...(byUnit.get(f.unit) ?? []), f]);
  return [...byUnit].map(([unit, figures]) => ({ unit, figures }));
}

/**
 * Writes `<stem>.md` and its SVG charts into `dir`; returns the markdown file's path.
 */
export function writeReport(r: SuiteResult, dir: string, stem: string): string {
  const lines: string[] = [
    `# Brook benchmark run ${r.startedAt}`,
    '',
    ...runHeader(r),
    '',
    '## Goals',
    '',
    ...goalsTable(r),
    '',
  ];
  for (const c of r.cases) {
    lines.push(`## ${c.title} (\`--case ${c.name}\`)`, '');
    lines.push(`${c.status}${c.reason ? `: ${c.reason}` : ''}, ${c.seconds.toFixed(0)} s`, '');
    lines.push(...figureTable(c));
    if (c.figures.length > 0) lines.push('');
    for (const s of c.skips) lines.push(`- skipped: **${s.name}**: ${s.reason}`);
    if (c.skips.length > 0) lines.push('');
    chartsOf(c).forEach(({ unit, figures }, i) => {
      const file = `${stem}-${c.name}-${i + 1}.svg`;
      const svg = barChart(
        `${c.title} (${unit})`,
        unit,
        figures.map((f) => ({
          label: f.name.length > 64 ? `${f.name.slice(0, 63)}…` : f.name,
          median: f.median,
          min: f.min,
          max: f.max,
          group: f.system,
        })),
      );
      writeFileSync(join(dir, file), svg);
      lines.push(`![${c.title}, ${unit}](${file})`, '');
    });
    if (c.figures.length > 0) {
      lines.push('<details><summary>parameters of each figure</summary>', '');
      for (const f of c.figures) {
        lines.push(
          `- **${cell(f.name)}**: ${cell(paramText(f.params))}${f.note ? ` (${cell(f.note)})` : ''}`,
        );
      }
      lines.push('', '</details>', '');
    }
  }
  const path = join(dir, `${stem}.md`);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}
