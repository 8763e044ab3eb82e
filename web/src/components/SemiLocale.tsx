import { LocaleProvider } from '@douyinfe/semi-ui';
import en_US from '@douyinfe/semi-ui/lib/es/locale/source/en_US';
import zh_CN from '@douyinfe/semi-ui/lib/es/locale/source/zh_CN';
import type { ReactNode } from 'react';
import { useI18n } from '../i18n/index.tsx';

/** Semi's own texts (pagination, date pickers, empty states) follow the console's language. */
export function SemiLocale({ children }: { children: ReactNode }) {
  const { lang } = useI18n();
  return <LocaleProvider locale={lang === 'zh' ? zh_CN : en_US}>{children}</LocaleProvider>;
}
