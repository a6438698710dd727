import type { Result } from './results.js';

export interface Scenario {
  name: string;
  description: string;
  run(): Promise<Result[]>;
}
