"""Tiny gymnasium environments for the RL tests.

Corridor: observation [t, 1], reward 1; the episode ends after 3 steps, by
termination or by a time-limit truncation (chosen at construction), so a test can
check what each agent bootstraps from. Choice (registered as `CHOICE_ID`): the
reward is the action, so a greedy policy's return shows which action it prefers."""

import gymnasium
import numpy as np


class Corridor(gymnasium.Env):
    observation_space = gymnasium.spaces.Box(-10, 10, (2,), np.float32)
    action_space = gymnasium.spaces.Discrete(2)

    def __init__(self, truncate=False):
        self.truncate = truncate
        self.t = 0

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.array([0.0, 1.0], np.float32), {}

    def step(self, action):
        self.t += 1
        obs = np.array([self.t, 1.0], np.float32)
        end = self.t == 3
        return obs, 1.0, end and not self.truncate, end and self.truncate, {}


class Choice(gymnasium.Env):
    """Five steps, observation [t, 1]; the reward is the action taken (0 or 1), so a
    greedy policy's return is 5 if it always picks action 1 and 0 if never."""

    observation_space = gymnasium.spaces.Box(-10, 10, (2,), np.float32)
    action_space = gymnasium.spaces.Discrete(2)

    def __init__(self):
        self.t = 0
        self.steps = 0  # over all episodes

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.array([0.0, 1.0], np.float32), {}

    def step(self, action):
        self.t += 1
        self.steps += 1
        obs = np.array([self.t, 1.0], np.float32)
        return obs, float(action), self.t == 5, False, {}


CHOICE_ID = "KerasdlTestChoice-v0"
if CHOICE_ID not in gymnasium.registry:
    gymnasium.register(CHOICE_ID, entry_point=Choice)
