import type { channelHealthEn } from './channel-health.en.ts';

export const channelHealthZh: Record<keyof typeof channelHealthEn, string> = {
  'channels.health': '健康状态',
  'channels.healthOk': '正常',
  'channels.autoDisabled': '已自动停用',
  'channels.recentFailures': '最近 {attempts} 次调用中失败 {failures} 次',
  'channels.test': '测试',
  'channels.testPassed': 'HTTP {status}，耗时 {latency} 毫秒',
  'channels.testFailed': 'HTTP {status}，{latency} 毫秒后失败：{error}',
};
