// Channel health and the "test channel" action (issue 9, routing and health).
export const channelHealthEn = {
  'channels.health': 'Health',
  'channels.healthOk': 'OK',
  'channels.autoDisabled': 'Auto-disabled',
  'channels.recentFailures': '{failures} of the last {attempts} attempts failed',
  'channels.test': 'Test',
  'channels.testPassed': 'HTTP {status} in {latency} ms',
  'channels.testFailed': 'HTTP {status} after {latency} ms: {error}',
} as const;
