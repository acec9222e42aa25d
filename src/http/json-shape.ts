// Checks every JSON input must pass whatever its schema: no U+0000 (PostgreSQL text cannot hold
// it) and no absurd nesting (recursive code anywhere downstream would overflow the stack).
// Iterative, so the check itself cannot overflow.

/** Deeper than any real lead or chat summary; a body nested further is refused. */
export const MAX_JSON_DEPTH = 64;

export type JsonProblem = { readonly kind: 'nul'; readonly pointer: string } | { readonly kind: 'depth'; readonly pointer: string };

const pointerToken = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1');

/** The first problem found (as a JSON pointer such as `/services/0/code`), or undefined. */
export function inspectJson(value: unknown, maxDepth = MAX_JSON_DEPTH): JsonProblem | undefined {
  const stack: { value: unknown; pointer: string; depth: number }[] = [{ value, pointer: '', depth: 0 }];
  while (stack.length > 0) {
    const { value: current, pointer, depth } = stack.pop() as (typeof stack)[number];
    if (typeof current === 'string') {
      if (current.includes('\u0000')) return { kind: 'nul', pointer };
      continue;
    }
    if (current === null || typeof current !== 'object') continue;
    if (depth >= maxDepth) return { kind: 'depth', pointer };
    for (const [key, child] of Object.entries(current)) {
      const childPointer = `${pointer}/${Array.isArray(current) ? key : pointerToken(key)}`;
      if (key.includes('\u0000')) return { kind: 'nul', pointer: childPointer };
      stack.push({ value: child, pointer: childPointer, depth: depth + 1 });
    }
  }
  return undefined;
}

export function describeJsonProblem(problem: JsonProblem): string {
  return problem.kind === 'nul' ? 'must not contain the NUL character (U+0000)' : `is nested deeper than ${MAX_JSON_DEPTH} levels`;
}
