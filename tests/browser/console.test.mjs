//! The web console in a real browser: every role walks the screens its navigation shows (what
//! must and must not appear, axe with WCAG 2.1 A/AA, a screenshot each), the referral flow from a
//! suggestion to a validated progress report by clicking, and bad input (a wrong password, a form
//! sent after its session ended). Dates are never asserted: the demo is dated 2026 and the
//! machine's clock may be anywhere.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { accessibilityViolations, api, launchBrowser, screenshot, startSystem } from './harness.mjs';

const ROUNDS = Math.max(1, Number.parseInt(process.env.TATRACK_BROWSER_ROUNDS || '1', 10) || 1);
const ROLES = ['admin', 'coordinator', 'donor', 'state', 'auditor'];

let system;
let browser;

before(async () => {
  system = await startSystem();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await system?.stop();
});

function account(role) {
  const found = system.accounts[role];
  assert.ok(found, `the demo printed no console sign-in for the ${role}; it printed:\n${system.output()}`);
  return found;
}

/** A new browser context (its own cookies) signed in as `role`; answers its page. */
async function signedIn(role) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await signIn(page, account(role));
  return page;
}

async function signIn(page, { email, password }, next) {
  await page.goto(`${system.url}/sign-in${next ? `?next=${encodeURIComponent(next)}` : ''}`);
  await page.locator('#email').fill(email);
  await page.locator('#password').fill(password);
  await Promise.all([
    page.waitForURL((url) => !url.pathname.startsWith('/sign-in')),
    page.getByRole('button', { name: 'Sign in' }).click(),
  ]);
}

/** The same-origin links of the header's navigation, as paths, in order. */
async function navigationPaths(page) {
  const hrefs = await page
    .getByRole('navigation', { name: 'Main' })
    .getByRole('link')
    .evaluateAll((links) => links.map((a) => a.href));
  const paths = [];
  for (const href of hrefs) {
    const url = new URL(href);
    if (url.origin !== system.url || paths.includes(url.pathname)) continue;
    paths.push(url.pathname);
  }
  return paths;
}

/** Axe on the page; fails with every violation, readable, if there is one. */
async function assertAccessible(page, what) {
  const violations = await accessibilityViolations(page);
  assert.equal(
    violations.length,
    0,
    `axe (WCAG 2.1 A/AA) on ${what} (${page.url()}):\n${violations.join('\n')}`,
  );
}

/** Opens `path`, checks it answered a page (no error), screenshots it, runs axe. */
async function visit(page, role, name, path) {
  const response = await page.goto(`${system.url}${path}`);
  assert.ok(response, `no response for ${path}`);
  assert.ok(response.status() < 400, `${role}: ${path} answered ${response.status()}`);
  assert.ok(!new URL(page.url()).pathname.startsWith('/sign-in'), `${role}: ${path} sent back to sign-in`);
  await screenshot(page, `${role}-${name}`);
  await assertAccessible(page, `${role}'s ${name}`);
}

function screenName(path) {
  return path === '/' ? 'overview' : path.replace(/^\//, '').replace(/\//g, '-');
}

test('the demo prints a console sign-in for every role', () => {
  for (const role of ROLES) account(role);
});

test('a wrong password shows the error and stays on the sign-in page', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  try {
    await page.goto(`${system.url}/sign-in`);
    await screenshot(page, 'sign-in');
    await assertAccessible(page, 'the sign-in page');
    // A known address if the demo printed one; the answer is the same for an unknown one.
    const known = system.accounts.coordinator;
    await page.locator('#email').fill(known ? known.email : 'coordinator@demo.tatrack.example');
    await page.locator('#password').fill(`${known ? known.password : 'a guess'}-wrong`);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForLoadState();
    assert.match(new URL(page.url()).pathname, /^\/sign-in/);
    const alert = page.getByRole('alert');
    await alert.first().waitFor();
    assert.ok((await alert.first().innerText()).trim().length > 0, 'the error says something');
    assert.equal(await page.getByRole('button', { name: 'Sign out' }).count(), 0, 'not signed in');
    await screenshot(page, 'sign-in-wrong-password');
    await assertAccessible(page, 'the sign-in page with its error');
  } finally {
    await context.close();
  }
});

for (let round = 1; round <= ROUNDS; round++) {
  test(`every role walks its screens${ROUNDS > 1 ? ` (round ${round} of ${ROUNDS})` : ''}`, async (t) => {
    for (const role of ROLES) {
      await t.test(role, async (t) => {
        const page = await signedIn(role);
        try {
          const paths = await navigationPaths(page);
          assert.ok(paths.length > 0, `${role}: the navigation has links`);
          const has = (p) => paths.some((x) => x === p || x.startsWith(`${p}/`));
          // What the navigation must and must not offer.
          if (role !== 'admin') assert.ok(!has('/admin'), `${role}: no Admin link (${paths})`);
          // The auditor reads; everyone else acts on referrals.
          assert.equal(has('/inbox'), role !== 'auditor', `${role}: an Inbox link unless auditor (${paths})`);
          for (const p of ['/', '/needs', '/projects']) assert.ok(has(p), `${role}: a link to ${p} (${paths})`);
          assert.ok(await page.getByRole('button', { name: 'Sign out' }).isVisible(), `${role}: a Sign out button`);

          for (const path of paths) {
            await t.test(`${role} ${path}`, async () => {
              await visit(page, role, screenName(path), path);
              if (path === '/') {
                // Charts and the map are inline SVG, each beside its table.
                const svgs = await page.locator('main figure svg').count();
                assert.ok(svgs >= 3, `${role}: the overview draws two charts and a map (${svgs} SVGs)`);
                assert.ok((await page.locator('main table').count()) >= 3, `${role}: the overview's tables`);
              }
              if (path === '/needs') {
                const csv = page.getByRole('link', { name: /as CSV/ });
                const res = await page.request.get(new URL(await csv.getAttribute('href'), system.url).href);
                assert.equal(res.status(), 200, `${role}: the CSV link answers`);
                assert.match(res.headers()['content-type'] || '', /text\/csv/);
              }
              if (path === '/projects') {
                const portfolio = await page.getByRole('heading', { name: /^Portfolio of / }).count();
                assert.equal(portfolio > 0, role === 'donor', `${role}: a portfolio only for a donor`);
              }
            });
          }

          // The first need's detail, when the role sees needs.
          if (has('/needs')) {
            await t.test(`${role} a need's detail`, async () => {
              await page.goto(`${system.url}/needs`);
              const link = page.locator('main a[href^="/needs/"]').first();
              if ((await link.count()) === 0) return;
              await Promise.all([page.waitForURL(/\/needs\/[^/?]+$/), link.click()]);
              await screenshot(page, `${role}-need-detail`);
              await assertAccessible(page, `${role}'s need detail`);
              if (role === 'donor' || role === 'state' || role === 'auditor') {
                assert.equal(
                  await page.getByRole('button', { name: /^Refer/ }).count(),
                  0,
                  `${role}: no Refer… buttons on a need`,
                );
              }
              if (role === 'donor') {
                assert.equal(
                  await page.getByRole('heading', { name: /suggested offers/i }).count(),
                  0,
                  'a donor sees no suggestions',
                );
              }
            });
          }
          // The first offer's and the first assessment's detail, when the role sees them.
          for (const [list, what] of [['/offers', 'offer'], ['/assessments', 'assessment']]) {
            if (!has(list)) continue;
            await t.test(`${role} an ${what}'s detail`, async () => {
              await page.goto(`${system.url}${list}`);
              const link = page.locator(`main a[href^="${list}/"]`).first();
              if ((await link.count()) === 0) return;
              await Promise.all([page.waitForURL(new RegExp(`${list}/[^/?]+$`)), link.click()]);
              await screenshot(page, `${role}-${what}-detail`);
              await assertAccessible(page, `${role}'s ${what} detail`);
            });
          }
          // The first project's detail, when the role sees projects.
          if (has('/projects')) {
            await t.test(`${role} a project's detail`, async () => {
              await page.goto(`${system.url}/projects`);
              const link = page.locator('main a[href^="/projects/"]').first();
              if ((await link.count()) === 0) return;
              await Promise.all([page.waitForURL(/\/projects\/[^/?]+$/), link.click()]);
              await screenshot(page, `${role}-project-detail`);
              await assertAccessible(page, `${role}'s project detail`);
            });
          }
        } finally {
          await page.context().close();
        }
      });
    }
  });
}

/** The `(scope)` the header shows beside the role: a donor's organisation, a State's code. */
async function scopeOf(page) {
  const who = await page.locator('header .who span').first().innerText();
  const m = /\(([^)]+)\)\s*$/.exec(who.trim());
  assert.ok(m, `the header names the scope: ${who}`);
  return m[1];
}

function isoDay(date) {
  return date.toISOString().slice(0, 10);
}

/**
 * A need of `country` whose top suggestion is an offer of `organisation`. When none has one (the
 * demo's offers may be taken or expired by the system's clock), a new offer of `organisation` is
 * drafted and published through the API for a referable need of that country, open from 2000 to
 * 2099 so no clock makes it expire, and the State shares that need with `organisation`.
 */
async function needWithSuggestion(country, organisation) {
  const token = system.tokens.coordinator;
  const needs = (await api(system, token, 'GET', `/needs?member_state=${country}`)).items;
  const ofCountry = needs.filter((n) => n.member_state === country);
  const matches = async (need) => api(system, token, 'GET', `/needs/${need.id}/matches`);
  for (const need of ofCountry) {
    const m = await matches(need);
    if (m.referable && m.suggestions.length > 0 && m.suggestions[0].organisation === organisation) {
      return { need, offerTitle: m.suggestions[0].title };
    }
  }
  // A need agreed with the State and nothing covered yet, else any referable one.
  let chosen = null;
  for (const need of ofCountry) {
    const m = await matches(need);
    if (!m.referable) continue;
    if (!chosen || (need.status.startsWith('agreed') && !chosen.status.startsWith('agreed'))) chosen = need;
  }
  assert.ok(chosen, `a referable need in ${country} (needs: ${ofCountry.map((n) => `${n.id} ${n.status}`)})`);
  const offerTitle = `Browser-test offer for ${chosen.theme} in ${country} (${Date.now()})`;
  const draft = {
    organisation,
    title: offerTitle,
    themes: [chosen.theme],
    countries: [country],
    modalities: [chosen.modality],
    valid_from: '2000-01-01',
    valid_until: '2099-12-31',
    languages: ['en'],
  };
  if (chosen.estimated_cost) draft.budget = chosen.estimated_cost;
  if (chosen.size) draft.capacity = chosen.size;
  if (!draft.budget && !draft.capacity) draft.budget = { amount_minor: 10_000_000, currency: 'USD' };
  // The State shares the need with the organisation (matching offers only what it may see).
  await api(system, token, 'POST', '/sharing-grants', {
    member_state: country,
    scope: { type: 'need', need_id: chosen.id },
    audience: { type: 'organisations', ids: [organisation] },
  });
  const drafted = await api(system, token, 'POST', '/offers', draft);
  await api(system, token, 'POST', `/offers/${drafted.id}/publish`, {});
  let top = null;
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const m = await matches(chosen);
    top = m.suggestions[0];
    if (top && top.offer_id === drafted.id) return { need: chosen, offerTitle };
    // Polled: the read model applies the new offer and grant a moment after the commands.
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.fail(`the new offer ${drafted.id} is not the top suggestion for need ${chosen.id} (top: ${JSON.stringify(top)})`);
}

/** The inbox card of the referral of need `needId`. */
function inboxCard(page, needId) {
  return page.locator('section.card').filter({ has: page.locator(`a[href="/needs/${needId}"]`) });
}

test('the referral flow by clicking: refer, accept twice, start the project, report, validate', async (t) => {
  const coordinator = await signedIn('coordinator');
  const donor = await signedIn('donor');
  const state = await signedIn('state');
  const flowViolations = [];
  const step = async (page, name) => {
    await screenshot(page, `flow-${name}`);
    const v = await accessibilityViolations(page);
    if (v.length) flowViolations.push(`${name} (${page.url()}):\n${v.join('\n')}`);
  };
  try {
    const organisation = await scopeOf(donor);
    const country = await scopeOf(state);
    const { need, offerTitle } = await needWithSuggestion(country, organisation);
    const projectTitle = `Browser-test project ${Date.now()}`;
    const narrative = `Browser test: courses held and ${Date.now()} people trained.`;
    let projectPath = null;

    await t.test('the coordinator refers the need to the top suggestion and confirms', async () => {
      await coordinator.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Needs', exact: true }).click();
      await coordinator.getByRole('heading', { name: 'Needs register' }).waitFor();
      await step(coordinator, '01-coordinator-needs');
      await Promise.all([
        coordinator.waitForURL(`**/needs/${need.id}`),
        coordinator.locator(`main a[href="/needs/${need.id}"]`).first().click(),
      ]);
      await coordinator.getByRole('heading', { name: 'Suggested offers' }).waitFor();
      await step(coordinator, '02-coordinator-need');
      const refer = coordinator.getByRole('button', { name: /^Refer to / }).first();
      assert.match(await refer.getAttribute('aria-label'), new RegExp(`${organisation}: ${offerTitle.replace(/[()]/g, '.')}`));
      assert.equal((await refer.innerText()).trim(), 'Refer…');
      await refer.click();
      const confirm = coordinator.getByRole('button', { name: `Confirm: refer to ${organisation}` });
      await confirm.waitFor();
      await coordinator.getByRole('heading', { name: 'Overlap alerts' }).waitFor();
      assert.ok((await coordinator.locator('#confirm').innerText()).includes(offerTitle), 'the confirmation names the offer');
      await step(coordinator, '03-coordinator-confirm');
      await confirm.click();
      await confirm.waitFor({ state: 'detached' });
      await coordinator.getByRole('heading', { name: 'Referrals' }).waitFor();
      const referrals = await coordinator.locator('table', { has: coordinator.getByRole('columnheader', { name: 'Organisation' }) }).innerText();
      assert.ok(referrals.includes(organisation), `the need's referrals list ${organisation}: ${referrals}`);
      await step(coordinator, '04-coordinator-referred');
    });

    await t.test('the donor accepts in the inbox', async () => {
      await donor.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Inbox', exact: true }).click();
      await donor.getByRole('heading', { name: 'Inbox', level: 1 }).waitFor();
      const card = inboxCard(donor, need.id);
      await card.waitFor();
      await step(donor, '05-donor-inbox');
      const accept = card.getByRole('button', { name: 'Accept', exact: true });
      await accept.click();
      await accept.waitFor({ state: 'detached' });
      await step(donor, '06-donor-accepted');
    });

    await t.test('the State focal point accepts for the State', async () => {
      await state.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Inbox', exact: true }).click();
      await state.getByRole('heading', { name: 'Inbox', level: 1 }).waitFor();
      const card = inboxCard(state, need.id);
      await card.waitFor();
      await step(state, '07-state-inbox');
      const accept = card.getByRole('button', { name: 'Accept for the State' });
      await accept.click();
      await accept.waitFor({ state: 'detached' });
      await step(state, '08-state-accepted');
    });

    await t.test('the coordinator starts the project', async () => {
      await coordinator.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Inbox', exact: true }).click();
      await coordinator.getByRole('heading', { name: 'Inbox', level: 1 }).waitFor();
      const card = inboxCard(coordinator, need.id);
      await card.waitFor();
      const start = new Date();
      const end = new Date(start.getTime() + 365 * 86_400_000);
      await card.getByLabel('Project title').fill(projectTitle);
      await card.getByLabel('Planned start').fill(isoDay(start));
      await card.getByLabel('Planned end').fill(isoDay(end));
      await step(coordinator, '09-coordinator-start-project');
      const button = card.getByRole('button', { name: 'Start the project' });
      await button.click();
      await button.waitFor({ state: 'detached' });
      await step(coordinator, '10-coordinator-started');
    });

    await t.test("the donor's portfolio shows the project; the donor drafts and submits a progress report", async () => {
      await donor.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Projects', exact: true }).click();
      await donor.getByRole('heading', { name: /^Portfolio of / }).waitFor();
      const link = donor.getByRole('link', { name: projectTitle });
      await link.waitFor();
      await step(donor, '11-donor-projects');
      await Promise.all([donor.waitForURL(/\/projects\/[^/]+$/), link.click()]);
      projectPath = new URL(donor.url()).pathname;
      await donor.getByRole('heading', { name: projectTitle, level: 1 }).waitFor();
      const start = new Date();
      await donor.getByLabel('Period start').fill(isoDay(start));
      await donor.getByLabel('Period end').fill(isoDay(new Date(start.getTime() + 27 * 86_400_000)));
      await donor.getByLabel('What was done').fill(narrative);
      await step(donor, '12-donor-draft');
      await donor.getByRole('button', { name: 'Save the draft' }).click();
      const row = donor.getByRole('row').filter({ hasText: narrative });
      await row.waitFor();
      await step(donor, '13-donor-drafted');
      const submit = row.getByRole('button', { name: 'Submit' });
      await submit.click();
      await submit.waitFor({ state: 'detached' });
      await step(donor, '14-donor-submitted');
    });

    await t.test('the coordinator validates the report', async () => {
      assert.ok(projectPath, 'the project was opened');
      await coordinator.goto(`${system.url}${projectPath}`);
      const row = coordinator.getByRole('row').filter({ hasText: narrative });
      await row.waitFor();
      const validate = row.getByRole('button', { name: 'Validate' });
      await validate.click();
      await validate.waitFor({ state: 'detached' });
      assert.match(await coordinator.getByRole('row').filter({ hasText: narrative }).innerText(), /validated/i);
      await step(coordinator, '15-coordinator-validated');
    });

    await t.test("the flow's screens pass axe (WCAG 2.1 A/AA)", () => {
      assert.equal(flowViolations.length, 0, flowViolations.join('\n'));
    });
  } finally {
    for (const page of [coordinator, donor, state]) await page.context().close();
  }
});

test('a form sent after its session ended goes to the sign-in page', async () => {
  const page = await signedIn('donor');
  try {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Projects', exact: true }).click();
    const link = page.locator('main table a[href^="/projects/"]').first();
    await link.waitFor();
    await Promise.all([page.waitForURL(/\/projects\/[^/]+$/), link.click()]);
    const form = page.getByRole('form', { name: 'Draft a progress report' });
    await form.waitFor();
    // The session ends in another tab of the same browser.
    const other = await page.context().newPage();
    await other.goto(`${system.url}/`);
    await Promise.all([other.waitForURL('**/sign-in**'), other.getByRole('button', { name: 'Sign out' }).click()]);
    await other.close();

    const start = new Date();
    await page.getByLabel('Period start').fill(isoDay(start));
    await page.getByLabel('Period end').fill(isoDay(new Date(start.getTime() + 86_400_000)));
    await page.getByLabel('What was done').fill('sent after the session ended');
    await page.getByRole('button', { name: 'Save the draft' }).click();
    await page.getByRole('heading', { name: 'Sign in', level: 1 }).waitFor();
    await page.waitForURL('**/sign-in**');
    assert.match(new URL(page.url()).pathname, /^\/sign-in/);
    await screenshot(page, 'session-ended');
  } finally {
    await page.context().close();
  }
});
