/** The views of the workbench (DESIGN.md, "The desktop app"), in navigation order. */
export const VIEWS = [
  {
    id: 'editor',
    label: 'Experiment editor',
    planned:
      'Edit an experiment document with completion, hover docs and error squiggles from its schema, then run it with progress and cancel.',
  },
  { id: 'runs', label: 'Runs', planned: null },
  {
    id: 'dashboard',
    label: 'Dashboard',
    planned:
      'Charts of one run: series over simulated time, histograms and where the time went for each device and CPU.',
  },
  {
    id: 'compare',
    label: 'Compare',
    planned: 'Runs side by side: their metrics, overlaid series and a diff of their experiments.',
  },
  {
    id: 'sweeps',
    label: 'Sweeps',
    planned: 'Results of a parameter sweep, one point per run.',
  },
  {
    id: 'export',
    label: 'Export',
    planned: 'Export the whole database, chosen runs, CSV or JSON; import another workbench\u2019s database.',
  },
] as const;

export type ViewId = (typeof VIEWS)[number]['id'];
