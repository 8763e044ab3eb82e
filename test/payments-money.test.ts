// Exact decimal helpers for payment amounts: no floats anywhere, malformed input is null.
import { describe, expect, it } from 'vitest';
import {
  compareDecimal, decimalToMinor, minorToDecimal, pointsToUsd, usdToCnyMinor, usdToCnyString, usdToPoints,
} from '../src/wallet/payments/money.ts';
import { checkAgainstOrder } from '../src/wallet/payments/index.ts';
import { transferReference, createTransferProvider } from '../src/wallet/payments/transfer.ts';
import { createSandboxProvider } from '../src/wallet/payments/sandbox.ts';

describe('payment money helpers', () => {
  it('parses USD with at most 2 decimals into points', () => {
    expect(usdToPoints('10')).toBe(5_000_000n);
    expect(usdToPoints('10.5')).toBe(5_250_000n);
    expect(usdToPoints('0.01')).toBe(5_000n);
    expect(usdToPoints('100.00')).toBe(50_000_000n);
    for (const bad of ['10.001', '-1', '1e3', ' 10', '10.', '.5', '', 'abc', '0x10', '1,5', 10 as unknown as string]) {
      expect(usdToPoints(bad)).toBeNull();
    }
  });

  it('formats points as exact USD', () => {
    expect(pointsToUsd(5_000_000n)).toBe('10.00');
    expect(pointsToUsd(5_250_000)).toBe('10.50');
    expect(pointsToUsd(1)).toBe('0.000002');
    expect(pointsToUsd(-5_000)).toBe('-0.01');
    // Beyond 2^53 stays exact.
    expect(pointsToUsd(9_007_199_254_740_993n * 500_000n)).toBe('9007199254740993.00');
  });

  it('converts USD × CNY rate into fen, rounding half up', () => {
    expect(usdToCnyMinor('10', '7.3')).toBe(7300n);
    expect(usdToCnyString('10.00', '7.30')).toBe('73.00');
    expect(usdToCnyString('0.01', '7.25')).toBe('0.07'); // 0.0725 → 0.07
    expect(usdToCnyString('0.02', '7.25')).toBe('0.15'); // 0.145 → 0.15 (half up)
    expect(usdToCnyString('1234.56', '7.123456')).toBe('8794.33'); // 8794.333863... exact
    expect(usdToCnyString('0.1', '0.1')).toBe('0.01');
    for (const [usd, rate] of [['10.001', '7.3'], ['10', '0'], ['10', '-7'], ['10', '7.1234567'], ['x', '7']]) {
      expect(usdToCnyMinor(usd!, rate!)).toBeNull();
    }
  });

  it('compares decimal strings exactly', () => {
    expect(compareDecimal('73', '73.00')).toBe(0);
    expect(compareDecimal('73.001', '73.00')).toBe(1);
    expect(compareDecimal('0.1', '0.10000000001')).toBe(-1);
    expect(compareDecimal('9007199254740993', '9007199254740992')).toBe(1); // floats would say 0
    expect(compareDecimal('1e2', '100')).toBeNull();
  });

  it('decimal ↔ minor units without rounding into a match', () => {
    expect(decimalToMinor('73.00')).toBe(7300n);
    expect(decimalToMinor('73')).toBe(7300n);
    expect(decimalToMinor('73.000')).toBe(7300n);
    expect(decimalToMinor('73.001')).toBeNull();
    expect(decimalToMinor('-73')).toBeNull();
    expect(minorToDecimal(7300)).toBe('73.00');
    expect(minorToDecimal(7)).toBe('0.07');
    expect(minorToDecimal(1234, 0)).toBe('1234');
  });
});

describe('order check after a verified callback', () => {
  const order = { orderNo: 'ORD1', amount: { currency: 'CNY', minor: 7300 } };
  const good = { ok: true, paid: true, merchantOk: true, orderNo: 'ORD1', tradeNo: 'T1', amount: { currency: 'CNY', minor: 7300 }, reason: null, fields: {} };
  it('passes only when order number, currency and amount all match', () => {
    expect(checkAgainstOrder(good, order)).toBeNull();
    expect(checkAgainstOrder({ ...good, amount: { currency: 'CNY', minor: 7299 } }, order)).toMatch(/amount mismatch/);
    expect(checkAgainstOrder({ ...good, amount: { currency: 'USD', minor: 7300 } }, order)).toBe('currency mismatch');
    expect(checkAgainstOrder({ ...good, orderNo: 'ORD2' }, order)).toBe('order number mismatch');
    expect(checkAgainstOrder({ ...good, merchantOk: false }, order)).toBe('merchant mismatch');
    expect(checkAgainstOrder({ ...good, ok: false, reason: 'bad signature' }, order)).toBe('bad signature');
  });
});

describe('transfer and sandbox providers', () => {
  it('bank transfer: instructions with a stable reference code, no callbacks', async () => {
    const p = createTransferProvider({ bankName: 'Bank of Test', accountName: 'Mole Ltd', accountNo: '6222 0000 1111' });
    const created = await p.createPayment({ orderNo: 'ORD-T1', subject: 'top-up', amount: { currency: 'CNY', minor: 73_000 } }, { notifyUrl: 'http://x/n', returnUrl: 'http://x/r' });
    expect(created.pay.transfer).toEqual({
      bankName: 'Bank of Test', accountName: 'Mole Ltd', accountNo: '6222 0000 1111', reference: transferReference('ORD-T1'), amount: '730.00', currency: 'CNY',
    });
    expect(transferReference('ORD-T1')).toMatch(/^MOLE-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/);
    expect(transferReference('ORD-T1')).toBe(transferReference('ORD-T1'));
    expect(transferReference('ORD-T2')).not.toBe(transferReference('ORD-T1'));
    const v = await p.verifyNotify({ method: 'POST', query: '', body: 'out_trade_no=ORD-T1&money=730.00', headers: {} });
    expect(v.ok).toBe(false);
    await expect(p.queryOrder({ orderNo: 'ORD-T1' })).rejects.toThrow(/admin/);
    expect(() => createTransferProvider({ bankName: '', accountName: 'a', accountNo: '1' })).toThrow(/bankName/);
  });

  it('sandbox: flagged, completes at creation, trusts no callback', async () => {
    const p = createSandboxProvider();
    expect(p.sandbox).toBe(true);
    const created = await p.createPayment({ orderNo: 'ORD-S1', subject: 'top-up', amount: { currency: 'USD', minor: 1000 } }, { notifyUrl: 'http://x/n', returnUrl: 'http://x/r' });
    expect(created.completed).toEqual({ tradeNo: 'SANDBOX-ORD-S1', amount: { currency: 'USD', minor: 1000 } });
    expect(created.pay.url).toBe('http://x/r');
    const v = await p.verifyNotify({ method: 'POST', query: '', body: 'orderNo=ORD-S1', headers: {} });
    expect(v.ok).toBe(false);
  });
});
