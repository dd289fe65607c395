/**
 * Memory advice for a region, in the spirit of hmadvise (GMEM) and cudaMemAdvise: the
 * fields shared by the gmem strategy's `advice` list and the scripted `advise` op.
 */
import { bool, oneOf } from '../schema/fields.js';

export const adviceFields = {
  preferredLocation: oneOf(
    ['none', 'device', 'host'],
    'a preferred location',
    'Where the pages should live (cudaMemAdviseSetPreferredLocation): "device" migrates on fault and evicts these pages last; "host" keeps them in system memory and maps them over the link on a device fault instead of migrating them; "none" migrates on fault.',
  ),
  accessedBy: bool(
    'The devices keep a mapping of these pages wherever they live (cudaMemAdviseSetAccessedBy): a device fault maps the faulting device page over the link where it is, without migrating it.',
  ),
  readMostly: bool(
    'Read-mostly (cudaMemAdviseSetReadMostly): a device read copies the pages into device memory and keeps the system copy (replication: the CPU page becomes write-protected); a write by either side collapses the copies. Unsetting it drops the device copies.',
  ),
};

export interface Advice {
  preferredLocation: 'none' | 'device' | 'host';
  accessedBy: boolean;
  readMostly: boolean;
}
