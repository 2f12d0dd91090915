/**
 * Screenshots of the playground in use, at a phone width (375 px) and a desktop width (1440 px),
 * saved to e2e/screenshots/ (gitignored) for a person to look at: the whole page, and each card
 * on its own at 375 px (a full phone page is too tall to read as one image). Also checks that
 * nothing overflows the viewport horizontally.
 */
import { expect, form, keyRows, openPlayground, outcome, result, SCREENSHOTS, test } from './fixtures.js';

for (const width of [375, 1440]) {
  test(`screenshots at ${width} px`, async ({ page }) => {
    await page.setViewportSize({ width, height: width < 800 ? 812 : 900 });
    await openPlayground(page);
    await expect(page.getByText('Offline-ready')).toBeVisible();
    await page.getByRole('button', { name: 'Generate ML-KEM-768 key' }).click();
    await keyRows(page, 1);
    await page.getByRole('button', { name: 'Rotate ML-KEM-768' }).click();
    // One call per panel at a time: the key panel's buttons are aria-disabled until the rotate is shown.
    await keyRows(page, 2);
    await page.getByRole('button', { name: 'Generate ML-DSA-65 key' }).click();
    await keyRows(page, 3);
    await form(page, '3. Encrypt').getByRole('button', { name: 'Encrypt' }).click();
    await outcome(result(page, 'Encrypt result'));
    await form(page, '4. Decrypt').getByRole('button', { name: 'Decrypt' }).click();
    await outcome(result(page, 'Decrypt result'));
    await form(page, '5. Sign').getByRole('button', { name: 'Sign' }).click();
    await outcome(result(page, 'Sign result'));
    await form(page, '6. Verify').getByLabel('Key version').fill('7');
    await form(page, '6. Verify').getByRole('button', { name: 'Verify' }).click();
    expect((await outcome(result(page, 'Verify result'))).state).toBe('error'); // an error, to see one
    await page.getByRole('button', { name: 'Use public key of ML-KEM-768 version 2' }).click();
    await form(page, 'Seal to a public key').getByRole('button', { name: 'Seal' }).click();
    await outcome(result(page, 'Seal result'));
    await page.getByRole('button', { name: 'Use public key of ML-DSA-65 version 1' }).click();
    await form(page, 'Verify with a public key').getByRole('button', { name: 'Verify signature' }).click();
    await outcome(result(page, 'Public-key verify result'));
    await form(page, '8. Encapsulate (raw KEM)').getByRole('button', { name: 'Encapsulate' }).click();
    await outcome(result(page, 'Encapsulate result'));
    await form(page, 'Decapsulate').getByRole('button', { name: 'Decapsulate' }).click();
    await outcome(result(page, 'Decapsulate result'));
    await form(page, '9. Wrap a key').getByRole('button', { name: 'Wrap key' }).click();
    await outcome(result(page, 'Wrap result'));
    await form(page, 'Unwrap a key').getByRole('button', { name: 'Unwrap key' }).click();
    await outcome(result(page, 'Unwrap result'));
    await form(page, '10. Sign a digest').getByRole('button', { name: 'Sign digest' }).click();
    await outcome(result(page, 'Sign digest result'));
    await form(page, 'Verify a digest signature').getByRole('button', { name: 'Verify digest signature' }).click();
    await outcome(result(page, 'Verify digest result'));
    await page.locator('body').click({ position: { x: 1, y: 1 } }); // no focus ring in the picture

    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow, 'horizontal overflow in px').toBeLessThanOrEqual(0);

    await page.screenshot({ path: `${SCREENSHOTS}playground-${width}.png`, fullPage: true });
    if (width < 800) {
      const cards = page.locator('main > section.card, main > .pair > section.card, header.top');
      const count = await cards.count();
      for (let i = 0; i < count; i++) {
        await cards.nth(i).screenshot({ path: `${SCREENSHOTS}playground-${width}-part${i + 1}.png` });
      }
    }
    // The remote settings, not yet connected.
    await page.getByRole('radio', { name: 'Remote', exact: true }).check();
    await page.locator('body').click({ position: { x: 1, y: 1 } });
    await page
      .locator('main > section.card')
      .first()
      .screenshot({ path: `${SCREENSHOTS}playground-${width}-remote.png` });
  });
}
