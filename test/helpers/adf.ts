// ADF documents checked against the ADF 1.0 DTD of the test fixtures with xmllint (Debian's
// libxml2-utils; .ci/run installs it): one check for the builder's tests and the delivery tests.
import { spawnSync } from 'node:child_process';

const ADF_DTD = 'test/fixtures/adf/adf-1.0.dtd';

/** xmllint's verdict on a document given on stdin: status 0 when valid, its complaints on stderr. */
export function xmllint(xml: string): { readonly status: number | null; readonly stderr: string } {
  const r = spawnSync('xmllint', ['--noout', '--dtdvalid', ADF_DTD, '-'], { input: xml, encoding: 'utf8' });
  if (r.error) throw new Error(`xmllint is not installed (Debian: libxml2-utils): ${r.error.message}`);
  return { status: r.status, stderr: r.stderr };
}

/** '' when the document is valid, else what xmllint said. */
export const dtdProblems = (xml: string): string => {
  const r = xmllint(xml);
  return r.status === 0 ? '' : r.stderr;
};
