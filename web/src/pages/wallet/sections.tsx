import type { ComponentType } from 'react';
import { Enterprise } from './Enterprise.tsx';
import { Ledger } from './Ledger.tsx';
import { Orders } from './Orders.tsx';
import { Redeem } from './Redeem.tsx';
import { Referral } from './Referral.tsx';
import { Topup } from './Topup.tsx';

type Section = { id: string; Component: ComponentType };

/**
 * The wallet's sections by where they sit: the top-up beside a column of the smaller boxes, then the
 * full-width orders, enterprise box and history. Wallet.tsx lays them out; each section fetches its own data.
 */
export const WALLET_SECTIONS: { main: Section[]; side: Section[]; wide: Section[] } = {
  main: [{ id: 'topup', Component: Topup }],
  side: [
    { id: 'redeem', Component: Redeem },
    { id: 'referral', Component: Referral },
  ],
  wide: [
    { id: 'orders', Component: Orders },
    { id: 'enterprise', Component: Enterprise },
    { id: 'ledger', Component: Ledger },
  ],
};
