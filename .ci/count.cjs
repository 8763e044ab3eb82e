// Prints "<passed> <failed>" from a vitest JSON report; a test file that failed to load counts as one failure.
const report = require(require('node:path').resolve(process.argv[2]));
const brokenFiles = report.testResults.filter((f) => f.status === 'failed' && f.assertionResults.length === 0).length;
console.log(report.numPassedTests, report.numFailedTests + brokenFiles);
