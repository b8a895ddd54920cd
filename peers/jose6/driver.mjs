// jose-harness peer: panva's jose 6.x, pinned by this folder's package-lock.json (ESM-only, so
// loaded with import()). The driver itself is ../jose/driver.mjs; the protocol is ../README.md.
import { driverFor, serve } from '../jose/driver.mjs';

serve(driverFor(await import('jose'), new URL('./node_modules/jose/package.json', import.meta.url)));
