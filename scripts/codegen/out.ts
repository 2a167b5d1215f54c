/** Line-oriented output with indentation, for the emitters. */

/** Collects lines with indentation. */
export class Out {
  readonly lines: string[] = [];
  private depth = 0;
  line(text = ''): this {
    this.lines.push(text === '' ? '' : '  '.repeat(this.depth) + text);
    return this;
  }
  open(text: string): this {
    this.line(text);
    this.depth++;
    return this;
  }
  close(text = '}'): this {
    this.depth--;
    return this.line(text);
  }
  /** Closes a block and opens the next at the same depth (`} else {`). */
  reopen(text = '} else {'): this {
    this.depth--;
    this.line(text);
    this.depth++;
    return this;
  }
}

/** Wraps text into a TSDoc comment. */
export function doc(out: Out, text: string): void {
  const clean = text.replace(/\*\//g, '*\\/').replace(/\s+/g, ' ').trim();
  if (clean === '') return;
  out.line(`/** ${clean} */`);
}
