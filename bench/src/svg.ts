// A small, dependency-free SVG bar chart: one panel per series, horizontal bars on a log scale.

export interface Series {
  readonly label: string;
  readonly values: readonly { readonly name: string; readonly value: number }[];
}

const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function barChart(title: string, series: readonly Series[]): string {
  const width = 860;
  const labelWidth = 190;
  const barHeight = 22;
  const panelGap = 40;
  const parts: string[] = [];
  let y = 40;
  parts.push(`<text x="10" y="24" font-size="15" font-weight="bold">${escape(title)}</text>`);
  for (const s of series) {
    const finite = s.values.filter((v) => Number.isFinite(v.value) && v.value > 0);
    const max = Math.max(...finite.map((v) => v.value));
    const min = Math.min(...finite.map((v) => v.value));
    const lo = Math.log10(min) - 0.5;
    const hi = Math.log10(max) + 0.1;
    const scale = (v: number) => ((Math.log10(v) - lo) / (hi - lo)) * (width - labelWidth - 90);
    parts.push(`<text x="10" y="${y + 12}" font-size="13" font-style="italic">${escape(s.label)}</text>`);
    y += 20;
    for (const v of s.values) {
      const w = Number.isFinite(v.value) && v.value > 0 ? Math.max(2, scale(v.value)) : 0;
      const fill = v.name.startsWith('lockstore') ? '#2b6cb0' : '#a0aec0';
      parts.push(
        `<text x="10" y="${y + 15}" font-size="12">${escape(v.name)}</text>`,
        `<rect x="${labelWidth}" y="${y + 3}" width="${w.toFixed(1)}" height="${barHeight - 6}" fill="${fill}"/>`,
        `<text x="${labelWidth + w + 6}" y="${y + 15}" font-size="12">${v.value >= 100 ? Math.round(v.value).toLocaleString('en-US') : v.value.toFixed(2)}</text>`,
      );
      y += barHeight;
    }
    y += panelGap;
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y}" font-family="sans-serif">\n<rect width="100%" height="100%" fill="white"/>\n${parts.join('\n')}\n</svg>\n`;
}
