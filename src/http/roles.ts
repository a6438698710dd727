/** Staff roles, weakest first; a stronger role may do everything a weaker one may. */
export const STAFF_ROLES = ['viewer', 'operator', 'admin'] as const;
export type StaffRole = (typeof STAFF_ROLES)[number];
/** `tenant:<id>` may read the billing of that tenant and nothing else. */
export type TenantRole = `tenant:${string}`;
export type Role = StaffRole | TenantRole;

export interface Principal {
  tokenId: number;
  name: string;
  role: Role;
}

const TENANT_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function parseRole(text: string): Role | undefined {
  if ((STAFF_ROLES as readonly string[]).includes(text)) return text as StaffRole;
  if (text.startsWith('tenant:') && TENANT_ID.test(text.slice('tenant:'.length))) return text as TenantRole;
  return undefined;
}

/** Whether `role` may act where at least `need` is required. Tenant roles never pass a staff check. */
export function allows(role: Role, need: StaffRole): boolean {
  const have = STAFF_ROLES.indexOf(role as StaffRole);
  return have >= 0 && have >= STAFF_ROLES.indexOf(need);
}

/** Whether `role` may read the billing of `tenant`: any staff role, or that tenant's own token. */
export function allowsTenant(role: Role, tenant: string): boolean {
  return allows(role, 'viewer') || role === `tenant:${tenant}`;
}
