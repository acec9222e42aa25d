// How the resources' stored columns meet the API: times are stored as epoch ms and shown as ISO
// date-times; the lists' `q` filters match text with LIKE, case-insensitively.

export const iso = (ms: number) => new Date(ms).toISOString();

/** A LIKE pattern matching `value` literally (its \, % and _ escaped), lower-cased. */
export const likePattern = (value: string, where: 'prefix' | 'contains') => {
  const literal = value.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`);
  return where === 'prefix' ? `${literal}%` : `%${literal}%`;
};
