import type { providersEn } from './providers.en.ts';

// 渠道类型及其配置的控制台文案（issue 9，providers）。
export const providersZh: Record<keyof typeof providersEn, string> = {
  'providers.type': '类型',
  'providers.keyHint': '多个密钥：每行一个，轮流使用。vertex：服务账号 JSON 文件。',
  'providers.config': '配置（JSON）',
  'providers.configHint': 'azure：{"apiVersion":"2024-10-21","deployments":{"gpt-4o":"my-deployment"}} · vertex：{"project":"…","location":"us-central1"} · 任意类型：{"headers":{…}}（请求头的值只写不读：仅在要替换时填写 headers）',
  'providers.configInvalid': '配置必须是一个 JSON 对象。',
};
