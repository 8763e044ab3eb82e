import { Typography } from '@douyinfe/semi-ui';
import { Link } from 'react-router';
import { useI18n } from '../i18n/index.tsx';

export default function NotFound() {
  const { t } = useI18n();
  return (
    <section>
      <Typography.Title heading={2}>{t('notFound.title')}</Typography.Title>
      <Link to="/">{t('notFound.back')}</Link>
    </section>
  );
}
