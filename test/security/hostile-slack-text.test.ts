/**
 * Text from users and repositories reaches Slack escaped for mrkdwn: a
 * `<!channel>` in a transition reason, a command argument, a commit message
 * or a branch name shows as text and mentions nobody.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { slackSluicePerTest } from '../helpers/slack-sluice.ts';
import { ANN, MALLORY } from '../helpers/slack-workspace.ts';

const startApp = slackSluicePerTest();

/** Slack's special mentions, a user mention and a link: none may reach Slack unescaped. */
const LOUD = /<!channel>|<!here>|<!everyone>|<@U0EVERY>|<https:\/\/evil\.example>/;

describe('hostile text in Slack', () => {
  test('a reason, command arguments, a commit message and a branch name mention nobody', async () => {
    const started = await startApp();
    const answers: string[] = [];
    const say = async (text: string, user = ANN) => {
      const answer = String((await started.command(text, user)).text);
      answers.push(answer);
      return answer;
    };

    // A commit message and a branch name on the approval card.
    await started.push(1, 'v1', { message: '<!channel> please look & approve <https://evil.example|here>' });
    const card = JSON.stringify(started.card().blocks);
    assert.match(card, /&lt;!channel&gt; please look &amp; approve &lt;https:\/\/evil\.example\|here&gt;/);
    await started.click(started.card(), 'reject', ANN);

    // A transition reason, in the answer and in status.
    const disabled = await say('disable acme/shop production <!channel> freeze <@U0EVERY>');
    assert.match(
      disabled,
      /disabled the transition into \*production\* of \*acme\/shop\*: &lt;!channel&gt; freeze &lt;@U0EVERY&gt;\./,
    );
    await started.push(2, 'v2');
    assert.match(
      await say('status acme/shop', MALLORY),
      /waiting to enter production \(the transition into "production" is disabled: &lt;!channel&gt; freeze &lt;@U0EVERY&gt;\)/,
    );
    // Command arguments.
    assert.equal(await say('<!here>'), `Sluice has no command "&lt;!here&gt;".\n${(await say('help')).trim()}`);
    assert.match(await say('run <!everyone>'), /^"&lt;!everyone&gt;" is not a repository/);
    assert.match(await say('run acme/shop <!channel>'), /^"&lt;!channel&gt;" is not a branch, tag or commit/);
    assert.match(await say('disable acme/shop <!here>'), /^"&lt;!here&gt;" is not an? stage name/);

    const everything = JSON.stringify(started.slack.calls) + answers.join('\n');
    assert.doesNotMatch(everything, LOUD);
  });
});
