// jose-harness peer: panva's jose 5.x, pinned by this folder's package-lock.json (loaded with
// import() as well). The driver itself is ../jose/driver.mjs; the protocol is ../README.md.
import { driverFor, serve } from '../jose/driver.mjs';

serve(driverFor(await import('jose'), new URL('./node_modules/jose/package.json', import.meta.url)));
