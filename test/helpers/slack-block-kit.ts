/**
 * Block Kit as Slack checks it on `chat.postMessage` and `chat.update`, for
 * the blocks Sluice uses (header, section, context, actions with buttons,
 * divider), after Slack's Block Kit reference: which text objects must be
 * `plain_text`, how long each text may be, how many items each list holds,
 * that `block_id` and `action_id` are unique in a message, and that no
 * object has a property its type does not take (Slack's `invalid
 * additional property: emoji` for an `emoji` on mrkdwn). Each problem
 * reads as Slack words it: what is wrong, then the JSON pointer of where
 * (`must be less than 76 characters [json-pointer:/blocks/3/elements/0/text/text]`).
 */

type Json = Record<string, unknown>;

/** What Slack answers for blocks it refuses: `errors`, and the same lines in `response_metadata`. */
export function invalidBlocksAnswer(errors: string[]): Json {
  return {
    ok: false,
    error: 'invalid_blocks',
    errors,
    response_metadata: { messages: errors.map((e) => `[ERROR] ${e}`) },
  };
}

/**
 * Slack's limit on a message's top-level `text`, in characters. Slack's
 * reference lists `msg_too_long` ("Message text is too long") among the
 * errors of chat.postMessage, chat.update and chat.postEphemeral, and its
 * changelog says longer text is cut to 40,000 with a `message_truncated`
 * warning: the stand-in refuses it, the stricter of the two, so a sender
 * must keep under the limit itself (counting UTF-16 units, which are never
 * fewer than characters).
 */
export const MESSAGE_TEXT_LIMIT = 40_000;

/** `msg_too_long` for a text over Slack's limit, or undefined. */
export function textTooLong(text: unknown): string | undefined {
  return typeof text === 'string' && text.length > MESSAGE_TEXT_LIMIT ? 'msg_too_long' : undefined;
}

export function blockKitErrors(blocks: unknown): string[] {
  const errors: string[] = [];
  const fail = (pointer: string, message: string): void => void errors.push(`${message} [json-pointer:${pointer}]`);
  if (!Array.isArray(blocks)) {
    fail('/blocks', 'must provide an array');
    return errors;
  }
  if (blocks.length > 50) fail('/blocks', 'no more than 50 items allowed');
  const blockIds = new Set<string>();
  const actionIds = new Set<string>();
  const id = (pointer: string, value: unknown, seen: Set<string>, what: string) => {
    if (value === undefined) return;
    if (typeof value !== 'string' || value.length === 0) return fail(pointer, 'must be a non-empty string');
    if (value.length > 255) return fail(pointer, 'must be less than 256 characters');
    if (seen.has(value)) return fail(pointer, `${what} must be unique in the message: ${value} is used twice`);
    seen.add(value);
  };
  /** Slack refuses a property the object's type does not have, pointing at the object. */
  const only = (pointer: string, value: Json, allowed: readonly string[]) => {
    for (const key of Object.keys(value))
      if (!allowed.includes(key)) fail(pointer, `invalid additional property: ${key}`);
  };
  const text = (pointer: string, value: unknown, options: { plain?: boolean; max: number }) => {
    if (!isObject(value)) return fail(pointer, 'must provide an object');
    if (value.type !== 'plain_text' && value.type !== 'mrkdwn')
      return fail(`${pointer}/type`, 'must be one of plain_text, mrkdwn');
    if (options.plain && value.type !== 'plain_text') return fail(`${pointer}/type`, 'must be plain_text');
    only(pointer, value, TEXT_PROPERTIES[value.type]);
    if (typeof value.text !== 'string') return fail(`${pointer}/text`, 'must provide a string');
    if (value.text.length === 0) return fail(`${pointer}/text`, 'must be more than 0 characters');
    if (value.text.length > options.max) fail(`${pointer}/text`, `must be less than ${options.max + 1} characters`);
  };
  const list = (pointer: string, value: unknown, max: number): unknown[] | undefined => {
    if (!Array.isArray(value)) return void fail(pointer, 'must provide an array');
    if (value.length === 0) fail(pointer, 'must provide at least 1 item');
    if (value.length > max) fail(pointer, `no more than ${max} items allowed`);
    return value;
  };

  for (const [i, block] of blocks.entries()) {
    const at = `/blocks/${i}`;
    if (!isObject(block)) {
      fail(at, 'must provide an object');
      continue;
    }
    id(`${at}/block_id`, block.block_id, blockIds, 'block_id');
    const allowed = BLOCK_PROPERTIES[String(block.type)];
    if (allowed) only(at, block, allowed);
    switch (block.type) {
      case 'header':
        text(`${at}/text`, block.text, { plain: true, max: 150 });
        break;
      case 'section':
        if (block.text === undefined && block.fields === undefined) fail(at, 'must provide text or fields');
        if (block.text !== undefined) text(`${at}/text`, block.text, { max: 3000 });
        if (block.fields !== undefined)
          list(`${at}/fields`, block.fields, 10)?.forEach((field, j) =>
            text(`${at}/fields/${j}`, field, { max: 2000 }),
          );
        break;
      case 'context':
        list(`${at}/elements`, block.elements, 10)?.forEach((element, j) => {
          if (isObject(element) && element.type === 'image') return;
          text(`${at}/elements/${j}`, element, { max: 3000 });
        });
        break;
      case 'actions':
        list(`${at}/elements`, block.elements, 25)?.forEach((element, j) => button(`${at}/elements/${j}`, element));
        break;
      case 'divider':
        break;
      default:
        fail(`${at}/type`, `unknown block type ${JSON.stringify(block.type)}`);
    }
  }
  return errors;

  function button(at: string, element: unknown): void {
    if (!isObject(element)) return fail(at, 'must provide an object');
    if (element.type !== 'button')
      return fail(
        `${at}/type`,
        `element type ${JSON.stringify(element.type)} is not one Sluice's stand-in checks (button)`,
      );
    only(at, element, ['type', 'text', 'action_id', 'url', 'value', 'style', 'confirm', 'accessibility_label']);
    text(`${at}/text`, element.text, { plain: true, max: 75 });
    id(`${at}/action_id`, element.action_id, actionIds, 'action_id');
    if (element.value !== undefined && (typeof element.value !== 'string' || element.value.length > 2000))
      fail(`${at}/value`, 'must be a string of less than 2001 characters');
    if (element.url !== undefined && (typeof element.url !== 'string' || element.url.length > 3000))
      fail(`${at}/url`, 'must be a string of less than 3001 characters');
    if (element.style !== undefined && element.style !== 'primary' && element.style !== 'danger')
      fail(`${at}/style`, 'must be one of primary, danger');
    if (element.confirm !== undefined) confirm(`${at}/confirm`, element.confirm);
  }

  function confirm(at: string, dialog: unknown): void {
    if (!isObject(dialog)) return fail(at, 'must provide an object');
    only(at, dialog, ['title', 'text', 'confirm', 'deny', 'style']);
    text(`${at}/title`, dialog.title, { plain: true, max: 100 });
    text(`${at}/text`, dialog.text, { plain: true, max: 300 });
    text(`${at}/confirm`, dialog.confirm, { plain: true, max: 30 });
    text(`${at}/deny`, dialog.deny, { plain: true, max: 30 });
    if (dialog.style !== undefined && dialog.style !== 'primary' && dialog.style !== 'danger')
      fail(`${at}/style`, 'must be one of primary, danger');
  }
}

/** What each text object takes, after the Block Kit reference (`emoji` is plain_text's, `verbatim` mrkdwn's). */
const TEXT_PROPERTIES: Readonly<Record<'plain_text' | 'mrkdwn', readonly string[]>> = {
  plain_text: ['type', 'text', 'emoji'],
  mrkdwn: ['type', 'text', 'verbatim'],
};

/** What each block the stand-in checks takes, after the Block Kit reference. */
const BLOCK_PROPERTIES: Readonly<Record<string, readonly string[] | undefined>> = {
  header: ['type', 'text', 'block_id'],
  section: ['type', 'text', 'block_id', 'fields', 'accessory', 'expand'],
  context: ['type', 'elements', 'block_id'],
  actions: ['type', 'elements', 'block_id'],
  divider: ['type', 'block_id'],
};

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
