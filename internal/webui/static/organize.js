// Organising torrents: the category manager, the tags dialog, the queue
// buttons and force start. They exist when the daemon has categories
// (GET /api/v1/categories answers); the page hides them otherwise.
import { $, el, clear } from './dom.js';
import * as api from './api.js';

/** splitTags turns "a, b,,c " into ['a', 'b', 'c']. */
export function splitTags(s) {
  return String(s).split(',').map((x) => x.trim()).filter(Boolean);
}

/**
 * Organizer drives the organising dialogs and actions. ctx is the page:
 *   torrents            Map of info hash → status
 *   selection()         the selected info hashes
 *   categories()        the daemon's categories, or null
 *   refreshCategories() fetches them again
 *   refreshList()       fetches the torrent list again
 *   upsert(status)      applies a status the API answered
 *   toast(msg, isError) shows a message
 *   each(hashes, what, f) runs f on each hash and reports failures
 */
export class Organizer {
  constructor(ctx) {
    this.ctx = ctx;
    $('btn-categories').addEventListener('click', () => this.openCategories());
    $('cat-create').addEventListener('click', () => this.createCategory());
    $('cat-new-name').addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); this.createCategory(); } });
    $('cat-new-path').addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); this.createCategory(); } });
    $('categories-dialog').addEventListener('close', () => { this.ctx.refreshList(); });
    $('btn-tags').addEventListener('click', () => this.askTags());
    $('tags-dialog').querySelector('button[value="cancel"]').addEventListener('click', (e) => { e.preventDefault(); $('tags-dialog').close('cancel'); });
    for (const move of ['top', 'up', 'down', 'bottom']) $('btn-q-' + move).addEventListener('click', () => this.queue(move));
    $('btn-force').addEventListener('click', () => this.forceStart());
  }

  /** update shows or hides the organising controls and sets their state. */
  update() {
    const on = this.ctx.categories() !== null;
    const n = this.ctx.selection().length;
    $('btn-categories').hidden = !on;
    $('btn-tags').hidden = !on;
    $('queue-actions').hidden = !on;
    $('btn-tags').disabled = n === 0;
    for (const id of ['btn-q-top', 'btn-q-up', 'btn-q-down', 'btn-q-bottom', 'btn-force']) $(id).disabled = n === 0;
  }

  // ---- categories ------------------------------------------------------

  async openCategories() {
    await this.ctx.refreshCategories();
    if (this.ctx.categories() === null) return;
    $('categories-error').hidden = true;
    $('cat-new-name').value = '';
    $('cat-new-path').value = '';
    this.renderCategories();
    const d = $('categories-dialog');
    if (!d.open) d.showModal();
    $('cat-new-name').focus();
  }

  showError(msg) {
    const e = $('categories-error');
    e.textContent = msg;
    e.hidden = !msg;
  }

  renderCategories() {
    const tbody = $('cat-rows');
    clear(tbody);
    const cats = this.ctx.categories() || [];
    $('cat-none').hidden = cats.length > 0;
    for (const c of cats) {
      const name = el('input', { type: 'text', value: c.name, 'aria-label': 'Name of category ' + c.name, spellcheck: 'false', maxlength: '128' });
      const path = el('input', { type: 'text', value: c.save_path || '', 'aria-label': 'Save path of category ' + c.name, spellcheck: 'false', placeholder: '(the default directory)' });
      const save = el('button', { type: 'button', class: 'cat-save', text: 'Save', disabled: true });
      const del = el('button', { type: 'button', class: 'danger cat-delete', text: 'Delete', title: 'Delete the category; its torrents stay, in no category' });
      const changed = () => { save.disabled = name.value.trim() === c.name && path.value.trim() === (c.save_path || ''); };
      name.addEventListener('input', changed);
      path.addEventListener('input', changed);
      const submit = (e) => { if (e.key === 'Enter') { e.preventDefault(); if (!save.disabled) this.saveCategory(c, name.value.trim(), path.value.trim()); } };
      name.addEventListener('keydown', submit);
      path.addEventListener('keydown', submit);
      save.addEventListener('click', () => this.saveCategory(c, name.value.trim(), path.value.trim()));
      // Deleting asks twice: the first click arms the button.
      del.addEventListener('click', () => {
        if (del.dataset.armed) { this.deleteCategory(c.name); return; }
        del.dataset.armed = '1';
        del.textContent = 'Really delete?';
        setTimeout(() => { if (del.isConnected) { delete del.dataset.armed; del.textContent = 'Delete'; } }, 5000);
      });
      tbody.append(el('tr', { 'data-category': c.name }, el('td', null, name), el('td', null, path), el('td', { class: 'cat-buttons' }, save, del)));
    }
  }

  async afterCategoryChange(msg) {
    this.showError('');
    await this.ctx.refreshCategories();
    this.renderCategories();
    this.ctx.refreshList();
    if (msg) this.ctx.toast(msg);
  }

  async createCategory() {
    const name = $('cat-new-name').value.trim(), path = $('cat-new-path').value.trim();
    if (!name) { this.showError('Give the new category a name.'); return; }
    if (path && !path.startsWith('/') && !/^[A-Za-z]:[\\/]/.test(path)) { this.showError('The save path must be absolute.'); return; }
    try {
      await api.call('POST', '/api/v1/categories', { name, save_path: path });
    } catch (e) { this.showError(e.message); return; }
    $('cat-new-name').value = '';
    $('cat-new-path').value = '';
    await this.afterCategoryChange(`Category "${name}" created`);
  }

  async saveCategory(c, name, path) {
    const body = {};
    if (name !== c.name) body.name = name;
    if (path !== (c.save_path || '')) body.save_path = path;
    if (!Object.keys(body).length) return;
    if (!name) { this.showError('A category needs a name.'); return; }
    try {
      await api.call('PATCH', '/api/v1/categories/' + encodeURIComponent(c.name), body);
    } catch (e) { this.showError(e.message); return; }
    // The list's statuses carry the old name until they are fetched again.
    if (body.name) for (const t of this.ctx.torrents.values()) if (t.category === c.name) t.category = body.name;
    await this.afterCategoryChange(body.name ? `Category "${c.name}" renamed to "${name}"` : `Category "${name}" saved`);
  }

  async deleteCategory(name) {
    try {
      await api.call('DELETE', '/api/v1/categories/' + encodeURIComponent(name));
    } catch (e) { this.showError(e.message); return; }
    for (const t of this.ctx.torrents.values()) if (t.category === name) t.category = '';
    await this.afterCategoryChange(`Category "${name}" deleted`);
  }

  // ---- tags ------------------------------------------------------------

  askTags() {
    const hs = this.ctx.selection();
    if (!hs.length || this.ctx.categories() === null) return;
    $('tags-title').textContent = hs.length === 1 ? 'Tags of this torrent' : `Tags of ${hs.length} torrents`;
    const known = new Set(), carried = new Set();
    for (const t of this.ctx.torrents.values()) for (const g of t.tags || []) known.add(g);
    for (const h of hs) for (const g of this.ctx.torrents.get(h)?.tags || []) carried.add(g);
    const dl = $('tags-known');
    clear(dl);
    for (const g of [...known].sort()) dl.append(el('option', { value: g }));
    const ul = $('tags-remove');
    clear(ul);
    for (const g of [...carried].sort()) {
      ul.append(el('li', null, el('label', null, el('input', { type: 'checkbox', 'data-tag': g }), el('span', { text: g }))));
    }
    $('tags-remove-box').hidden = carried.size === 0;
    $('tags-add').value = '';
    $('tags-error').hidden = true;
    const d = $('tags-dialog');
    d.returnValue = '';
    d.onclose = () => {
      if (d.returnValue !== 'set') return;
      const add = splitTags($('tags-add').value);
      const remove = [...ul.querySelectorAll('input[type=checkbox]')].filter((c) => c.checked).map((c) => c.dataset.tag);
      if (!add.length && !remove.length) return;
      const body = {};
      if (add.length) body.add_tags = add;
      if (remove.length) body.remove_tags = remove;
      this.ctx.each(hs, 'Tags', async (h) => this.ctx.upsert(await api.call('PATCH', `/api/v1/torrents/${h}`, body)));
    };
    d.showModal();
    $('tags-add').focus();
  }

  // ---- queue -----------------------------------------------------------

  /**
   * queue moves the selected torrents in the queue, one request each,
   * in an order that keeps them in their order among themselves.
   */
  async queue(move) {
    const hs = this.ctx.selection();
    if (!hs.length) return;
    const pos = (h) => this.ctx.torrents.get(h)?.queue_position ?? 0;
    const order = [...hs].sort((a, b) => pos(a) - pos(b));
    if (move === 'top' || move === 'down') order.reverse();
    const errors = [];
    for (const h of order) {
      try { await api.call('POST', `/api/v1/torrents/${h}/queue`, { move }); } catch (e) { errors.push(`${this.ctx.torrents.get(h)?.name || h}: ${e.message}`); }
    }
    if (errors.length) this.ctx.toast(`Queue ${move} failed for ${errors.length} of ${hs.length}: ${errors.slice(0, 3).join('; ')}`, true);
    await this.ctx.refreshList();
  }

  forceStart() {
    const hs = this.ctx.selection();
    if (hs.length) this.ctx.each(hs, 'Force start', (h) => api.call('POST', `/api/v1/torrents/${h}/force-start`));
  }
}
