import type { Principal } from './roles.js';

/** Hono context variables set by Overseer's middleware. */
export interface AppEnv {
  Variables: {
    principal: Principal;
    requestId: string;
  };
}
