import type { pricesEn } from './prices.en.ts';

export const pricesZh: Record<keyof typeof pricesEn, string> = {
  'prices.cacheWrite': '缓存写入 美元 / 1M（可选；留空 = 输入价）',
  'prices.audioInput': '音频输入 美元 / 1M（可选；留空 = 输入价）',
  'prices.audioOutput': '音频输出 美元 / 1M（可选；留空 = 输出价）',
  'prices.imageInput': '图像输入 美元 / 1M（可选；留空 = 输入价）',
  'prices.imageOutput': '图像输出 美元 / 1M（可选；留空 = 输出价）',
  'prices.audioColumn': '音频 输入 / 输出 / 1M',
  'prices.imageColumn': '图像 输入 / 输出 / 1M',
};
