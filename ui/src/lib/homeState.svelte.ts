// The home screen's filters, kept while the user opens a household and comes back.
export const homeFilters = $state<{ text: string; status: string; hamlet: string; scrollY: number }>({
  text: '',
  status: '',
  hamlet: '',
  scrollY: 0,
});
