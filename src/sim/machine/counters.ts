/** Event counts of a run, as plain number fields (fast to bump on the hot path). */
export class Counters {
  cpuAccesses = 0;
  cpuBytes = 0;
  cpuPageFaults = 0;
  cpuCowFaults = 0;
  /** CPU page faults the driver took on the device's behalf (hmm_range_fault, pinning host buffers). */
  driverFaultedPages = 0;
  deviceAccesses = 0;
  deviceBytes = 0;
  devicePageFaults = 0;
  deviceFaultsCoalesced = 0;
  deviceFaultBatches = 0;
  deviceFaultBufferFull = 0;
  deviceRemoteBytes = 0;
  deviceLocalBytes = 0;
  atsRequests = 0;
  notifierInvalidations = 0;
  tlbShootdowns = 0;
  hmmRangeFaultRetries = 0;
  batchRetries = 0;
  dmaMappedPages = 0;
  copies = 0;
  pinnedPages = 0;
  copyH2DBytes = 0;
  copyD2HBytes = 0;
  kernelLaunches = 0;
  /** Context steps taken inline instead of through the heap (events all the same). */
  inlineEvents = 0;
  unexpectedOutcomes = 0;
  plannedBytes = 0;
  doneBytes = 0;
}
