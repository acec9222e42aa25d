// Checks every JSON input must pass whatever its schema: no U+0000 (PostgreSQL text cannot hold
// it), no lone UTF-16 surrogate (not text: the PostgreSQL driver turns each into U+FFFD, so
// "A\ud800" and "A\udbff" would be stored as the same string and match the same lead), and no
// absurd nesting (recursive code anywhere downstream would overflow the stack). Iterative, so the
// check itself cannot overflow.

/** Deeper than any real lead or chat summary; a body nested further is refused. */
const MAX_JSON_DEPTH = 64;

export interface JsonProblem {
  readonly kind: 'nul' | 'surrogate' | 'depth';
  readonly pointer: string;
}

export interface InspectOptions {
  /** Accept U+0000 (the event gate stores it escaped; the pipeline decides). */
  readonly allowNul?: boolean;
  readonly maxDepth?: number;
}

// In a `u` regex a string is read as code points: a paired surrogate is one code point outside
// \p{Cs}, a lone one is a surrogate code point.
const LONE_SURROGATE = /\p{Cs}/u;

function textProblem(text: string, allowNul: boolean): JsonProblem['kind'] | undefined {
  if (!allowNul && text.includes('\u0000')) return 'nul';
  return LONE_SURROGATE.test(text) ? 'surrogate' : undefined;
}

const pointerToken = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1');

/** The first problem found (as a JSON pointer such as `/services/0/code`), or undefined. */
export function inspectJson(value: unknown, options: InspectOptions = {}): JsonProblem | undefined {
  const { allowNul = false, maxDepth = MAX_JSON_DEPTH } = options;
  const stack: { value: unknown; pointer: string; depth: number }[] = [{ value, pointer: '', depth: 0 }];
  while (stack.length > 0) {
    const { value: current, pointer, depth } = stack.pop() as (typeof stack)[number];
    if (typeof current === 'string') {
      const kind = textProblem(current, allowNul);
      if (kind !== undefined) return { kind, pointer };
      continue;
    }
    if (current === null || typeof current !== 'object') continue;
    if (depth >= maxDepth) return { kind: 'depth', pointer };
    for (const [key, child] of Object.entries(current)) {
      const childPointer = `${pointer}/${Array.isArray(current) ? key : pointerToken(key)}`;
      const kind = textProblem(key, allowNul);
      if (kind !== undefined) return { kind, pointer: childPointer };
      stack.push({ value: child, pointer: childPointer, depth: depth + 1 });
    }
  }
  return undefined;
}

export function describeJsonProblem(problem: JsonProblem): string {
  switch (problem.kind) {
    case 'nul':
      return 'must not contain the NUL character (U+0000)';
    case 'surrogate':
      return 'must not contain a lone UTF-16 surrogate (\\uD800–\\uDFFF not in a pair)';
    case 'depth':
      return `is nested deeper than ${MAX_JSON_DEPTH} levels`;
  }
}
