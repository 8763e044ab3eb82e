import type { Dialect } from '../types.ts';

export interface Migration {
  id: number;
  name: string;
  up(d: Dialect): string[];
}

export const pk = (d: Dialect) => (d === 'sqlite' ? 'INTEGER PRIMARY KEY AUTOINCREMENT' : 'BIGSERIAL PRIMARY KEY');
