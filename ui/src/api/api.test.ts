import { beforeEach, describe, expect, it, vi } from 'vitest';

const call = vi.fn();
vi.mock('../ipc', () => ({ call: (...args: unknown[]) => call(...args) }));

const app = await import('./app');
const households = await import('./households');
const residents = await import('./residents');
const sync = await import('./sync');
const { onLocalChange } = await import('../lib/changes');
const { todayIso } = await import('../lib/format');

beforeEach(() => {
  call.mockReset();
  call.mockResolvedValue(null);
});

const lastCall = () => call.mock.calls[call.mock.calls.length - 1];

describe('app commands', () => {
  it('app_info takes no arguments', async () => {
    await app.appInfo();
    expect(call).toHaveBeenCalledWith('app_info');
  });

  it('enroll sends camelCase keys', async () => {
    await app.enroll('https://gocua.example', 'ABCD-EFGH', 'Điện thoại của Lan', '246810', '246810');
    expect(lastCall()).toEqual([
      'enroll',
      { serverUrl: 'https://gocua.example', code: 'ABCD-EFGH', deviceName: 'Điện thoại của Lan', pin: '246810', pinConfirm: '246810' },
    ]);
    await app.unlock('246810');
    expect(lastCall()).toEqual(['unlock', { pin: '246810' }]);
    await app.setPin('135790', '135790');
    expect(lastCall()).toEqual(['set_pin', { pin: '135790', confirm: '135790' }]);
    await app.lockApp();
    expect(lastCall()).toEqual(['lock_app']);
  });

  it('training mode commands send the phone\'s date', async () => {
    await app.enterSandbox();
    expect(lastCall()).toEqual(['enter_sandbox', { today: todayIso() }]);
    await app.resetSandbox();
    expect(lastCall()).toEqual(['reset_sandbox', { today: todayIso() }]);
    await app.leaveSandbox();
    expect(lastCall()).toEqual(['leave_sandbox']);
  });

  it('list_hamlets and list_reasons take no arguments', async () => {
    await app.listHamlets();
    expect(lastCall()).toEqual(['list_hamlets']);
    await app.listReasons();
    expect(lastCall()).toEqual(['list_reasons']);
  });
});

describe('search_households', () => {
  it('sends nulls for unused parts', async () => {
    await households.searchHouseholds({ text: 'nguyen van' });
    expect(lastCall()).toEqual([
      'search_households',
      { query: { text: 'nguyen van', hamlet_code: null, status: null, limit: null, offset: null, today: todayIso() } },
    ]);
  });

  it('sends an empty query with no search', async () => {
    await households.searchHouseholds();
    expect(lastCall()).toEqual([
      'search_households',
      { query: { text: '', hamlet_code: null, status: null, limit: null, offset: null, today: todayIso() } },
    ]);
  });

  it('maps the status choices to StatusFilter', async () => {
    await households.searchHouseholds({ text: '', status: 'unvisited' });
    expect(lastCall()[1].query.status).toEqual({ kind: 'unvisited' });
    await households.searchHouseholds({ text: '', status: 'cannot_activate' });
    expect(lastCall()[1].query.status).toEqual({ kind: 'cannot_activate' });
    await households.searchHouseholds({ text: '', status: 'follow_up_due' });
    expect(lastCall()[1].query.status).toEqual({ kind: 'follow_up_due' });
    await households.searchHouseholds({ text: '', status: 'done' });
    expect(lastCall()[1].query.status).toEqual({ kind: 'done' });
    await households.searchHouseholds({ text: '', status: 'registered_pending' });
    expect(lastCall()[1].query.status).toEqual({ kind: 'state', state: 'registered_pending' });
    await households.searchHouseholds({ text: '', status: '' });
    expect(lastCall()[1].query.status).toBeNull();
    await households.searchHouseholds({ text: '', status: 'bogus' });
    expect(lastCall()[1].query.status).toBeNull();
  });

  it('sends the hamlet and limit when chosen', async () => {
    await households.searchHouseholds({ text: ' hoa ', hamlet: '03445-01', status: 'used_portal', limit: 50 });
    expect(lastCall()).toEqual([
      'search_households',
      {
        query: {
          text: 'hoa',
          hamlet_code: '03445-01',
          status: { kind: 'state', state: 'used_portal' },
          limit: 50,
          offset: null,
          today: todayIso(),
        },
      },
    ]);
  });
});

describe('household commands', () => {
  it('get_household sends the id', async () => {
    await households.getHousehold('h-1');
    expect(lastCall()).toEqual(['get_household', { id: 'h-1' }]);
  });

  it('create_household sends the form and returns the id', async () => {
    call.mockResolvedValueOnce('new-id');
    const form = { hamlet_code: '03445-01', address: 'Số 5', head_name: 'Lò Văn A' };
    await expect(households.createHousehold(form)).resolves.toBe('new-id');
    expect(lastCall()).toEqual(['create_household', { form }]);
  });

  it('survey_household sends the survey', async () => {
    const survey = { household_id: 'h-1', members: 4, smartphones: 2, has_internet_computer: false };
    await households.surveyHousehold(survey);
    expect(lastCall()).toEqual(['survey_household', { survey }]);
  });
});

describe('resident commands', () => {
  it('add_resident sends the form', async () => {
    call.mockResolvedValueOnce('r-1');
    const form = { household_id: 'h-1', full_name: 'Lò Thị B', birth_year: 1990, sex: 'female' as const, cccd: null, phone: '0912345678' };
    await expect(residents.addResident(form)).resolves.toBe('r-1');
    expect(lastCall()).toEqual(['add_resident', { form }]);
  });

  it('get_resident sends the id', async () => {
    await residents.getResident('r-1');
    expect(lastCall()).toEqual(['get_resident', { id: 'r-1' }]);
  });

  it('record_visit sends the form', async () => {
    const form = {
      resident_id: 'r-1',
      status: 'not_registered' as const,
      reason_code: 'away_for_work',
      action: 'guided_level1' as const,
      follow_up: '2025-12-01',
      steps: ['install_app' as const],
      note: null,
    };
    await residents.recordVisit(form);
    expect(lastCall()).toEqual(['record_visit', { form }]);
  });
});

describe('sync commands', () => {
  it('sync_status and sync_now take no arguments', async () => {
    await sync.syncStatus();
    expect(lastCall()).toEqual(['sync_status']);
    await sync.syncNow();
    expect(lastCall()).toEqual(['sync_now']);
  });
});

describe('local change signal', () => {
  it('fires after a successful write only', async () => {
    const seen = vi.fn();
    const off = onLocalChange(seen);
    await households.createHousehold({ hamlet_code: 'x', address: 'y', head_name: 'z' });
    expect(seen).toHaveBeenCalledTimes(1);
    call.mockRejectedValueOnce({ kind: 'invalid', message: 'm', fields: [] });
    await expect(residents.recordVisit({ resident_id: 'r', status: 'used_portal', reason_code: null, action: null, follow_up: null, steps: [], note: null })).rejects.toBeTruthy();
    expect(seen).toHaveBeenCalledTimes(1);
    await households.getHousehold('h');
    expect(seen).toHaveBeenCalledTimes(1);
    off();
  });
});
