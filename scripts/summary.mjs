// Prints the one line CI reads: "N passed, N failed" (and ", N skipped" when anything was skipped, so a skip is
// visible), from vitest's JSON report (and any extra result files).
import { existsSync, readFileSync } from 'node:fs';

const files = process.argv.slice(2).filter((a) => !a.startsWith('--'));
let passed = 0;
let skipped = 0;
let failed = process.argv.includes('--failed-step') ? 1 : 0;
for (const file of files) {
  if (!existsSync(file)) {
    console.error(`summary: ${file} is missing (the step that writes it crashed)`);
    failed += 1;
    continue;
  }
  const report = JSON.parse(readFileSync(file, 'utf8'));
  passed += report.numPassedTests ?? 0;
  skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0) + (report.numSkippedTests ?? 0);
  failed += report.numFailedTests ?? 0;
  // a test file that failed without a failing test (it did not load, or a hook threw) counts once; vitest's
  // numFailedTestSuites also counts every describe block around a failed test, so it is not used
  for (const file of report.testResults ?? []) {
    if (file.status === 'failed' && !(file.assertionResults ?? []).some((test) => test.status === 'failed')) failed += 1;
  }
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exitCode = failed === 0 ? 0 : 1;
