import { Button } from '@douyinfe/semi-ui';
import { useI18n } from '../i18n/index.tsx';

export function LangSwitch() {
  const { t, lang, setLang } = useI18n();
  return (
    <Button theme="borderless" aria-label={`${t('lang.label')}: ${t('lang.switch')}`} onClick={() => setLang(lang === 'en' ? 'zh' : 'en')}>
      {t('lang.switch')}
    </Button>
  );
}
